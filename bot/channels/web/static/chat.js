// The LÍDERES web chat: one WebSocket to the bot, the transcript kept in this browser only (localStorage).
// Everything the bot sends is put in with textContent: no HTML from the server is ever interpreted.
"use strict";

(function () {
  const KEEP = 200; // messages kept in the transcript
  const STORE = "lideres-chat-v1";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const fileInput = document.getElementById("file");
  const statusLine = document.getElementById("status");
  const noticeLine = document.getElementById("notice");
  const holder = document.getElementById("strings");
  let strings = JSON.parse(holder.dataset.strings || "{}");
  let socket = null;
  let retry = 0;
  let pressed = null; // the bubble whose button was pressed last: an "edit" answer replaces it
  let typing = null;
  let transcript = load();

  function t(key) {
    return strings[key] || key;
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (error) {
      return [];
    }
  }

  function save() {
    transcript = transcript.slice(-KEEP);
    try {
      localStorage.setItem(STORE, JSON.stringify(transcript));
    } catch (error) {
      // private mode or a full store: the conversation still works, it is only not kept
    }
  }

  function applyStrings() {
    document.documentElement.lang = holder.dataset.lang || document.documentElement.lang;
    for (const element of document.querySelectorAll("[data-string]")) {
      if (element.id !== "status") element.textContent = t(element.dataset.string);
    }
    for (const name of ["placeholder", "title", "aria-label"]) {
      for (const element of document.querySelectorAll(`[data-string-${name}]`)) {
        element.setAttribute(name, t(element.getAttribute(`data-string-${name}`)));
      }
    }
    document.title = t("page.title");
  }

  function setStatus(key) {
    statusLine.textContent = t(key);
    statusLine.dataset.state = key;
  }

  function notice(text) {
    noticeLine.textContent = text;
    noticeLine.hidden = !text;
    if (text) setTimeout(() => { if (noticeLine.textContent === text) noticeLine.hidden = true; }, 8000);
  }

  // -- showing messages ---------------------------------------------------------------------------------

  function linkify(container, text) {
    const pattern = /https?:\/\/[^\s<>"]+/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      container.append(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      container.append(link);
      last = match.index + match[0].length;
    }
    container.append(document.createTextNode(text.slice(last)));
  }

  function fill(bubble, message) {
    bubble.replaceChildren();
    if (message.picture && message.picture.url) {
      const image = document.createElement("img");
      image.src = message.picture.url;
      image.alt = message.picture.name || "";
      image.loading = "lazy";
      bubble.append(image);
    }
    if (message.text) {
      const text = document.createElement("p");
      text.className = "text";
      linkify(text, message.text);
      bubble.append(text);
    }
    if (message.document) {
      const link = document.createElement(message.document.url ? "a" : "span");
      link.className = "file";
      link.textContent = "📄 " + message.document.name;
      if (message.document.url) {
        link.href = message.document.url;
        link.download = message.document.name;
      }
      bubble.append(link);
    }
    for (const row of message.buttons || []) {
      const line = document.createElement("div");
      line.className = "buttons";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.className = "choice";
        element.textContent = button.label;
        element.addEventListener("click", () => press(bubble, button));
        line.append(element);
      }
      bubble.append(line);
    }
  }

  function show(message, from, keep) {
    const bubble = document.createElement("div");
    bubble.className = `bubble ${from}`;
    fill(bubble, message);
    log.append(bubble);
    if (keep) {
      transcript.push({ from, message });
      bubble.dataset.index = String(transcript.length - 1);
      save();
    }
    bubble.scrollIntoView({ block: "end", behavior: "smooth" });
    return bubble;
  }

  function showFromBot(messages) {
    stopTyping();
    for (const message of messages) {
      if (message.edit && pressed && pressed.isConnected) {
        fill(pressed, message);
        const index = Number(pressed.dataset.index);
        if (transcript[index]) {
          transcript[index].message = message;
          save();
        }
        pressed.scrollIntoView({ block: "end", behavior: "smooth" });
        pressed = null;
        continue;
      }
      show(message, "bot", true);
    }
  }

  function startTyping() {
    stopTyping();
    typing = document.createElement("div");
    typing.className = "bubble bot typing";
    typing.setAttribute("aria-label", t("page.typing"));
    typing.textContent = "•••";
    log.append(typing);
    typing.scrollIntoView({ block: "end" });
    const mine = typing;
    setTimeout(() => { if (typing === mine) stopTyping(); }, 15000);
  }

  function stopTyping() {
    if (typing) typing.remove();
    typing = null;
  }

  // -- talking to the bot ---------------------------------------------------------------------------------

  function sendFrame(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      notice(t("page.offline"));
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  }

  function press(bubble, button) {
    if (!sendFrame({ type: "button", data: button.data })) return;
    pressed = bubble;
    show({ text: button.label }, "me", true);
    startTyping();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!sendFrame({ type: "text", text })) return;
    pressed = null;
    show({ text }, "me", true);
    input.value = "";
    input.style.height = "";
    startTyping();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  });

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    const body = new FormData();
    body.append("file", file, file.name);
    const bubble = show({ document: { name: file.name } }, "me", true);
    startTyping();
    try {
      const response = await fetch("/chat/upload", { method: "POST", body, credentials: "same-origin" });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        stopTyping();
        bubble.classList.add("failed");
        notice(answer.error || t("page.upload_failed"));
      }
    } catch (error) {
      stopTyping();
      bubble.classList.add("failed");
      notice(t("page.upload_failed"));
    }
  });

  function connect() {
    setStatus(retry ? "page.reconnecting" : "page.connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/chat/ws`);
    socket.addEventListener("open", () => {
      retry = 0;
      sendFrame({ type: "hello", lang: navigator.language || "", fresh: transcript.length === 0 });
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame.type === "ready") {
        strings = frame.strings || strings;
        holder.dataset.lang = frame.lang || holder.dataset.lang;
        applyStrings();
        setStatus("page.online");
      } else if (frame.type === "messages") {
        showFromBot(frame.messages || []);
      } else if (frame.type === "notice") {
        stopTyping();
        notice(frame.text || "");
      }
    });
    socket.addEventListener("close", () => {
      stopTyping();
      setStatus("page.reconnecting");
      retry += 1;
      setTimeout(connect, Math.min(15000, 1000 * 2 ** Math.min(retry - 1, 4)));
    });
  }

  for (const entry of transcript) {
    const bubble = show(entry.message, entry.from, false);
    bubble.dataset.index = String(transcript.indexOf(entry));
  }
  applyStrings();
  connect();
})();
