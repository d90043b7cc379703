"""Word lists for matching questions: stop words, question intents and bilingual concepts.

They live in code, not in the knowledge base, because they describe the two languages, not the
network: another network's knowledge base reuses them unchanged. Everything here is already folded
(lower case, no accents), the form `text.fold` produces.
"""

from __future__ import annotations

import re
from pathlib import Path

# Function words and conversational filler of both languages. Dropped in either language because a
# user may write in either whatever their profile says ("what es el budget"), and a word that is
# empty in one language is rarely a content word in the other; kept apart to guess the language.
STOPWORDS_ES: frozenset[str] = frozenset(
    """
    a al algo algun como alguna algunas alguno algunos ante antes aqui asi aun bajo bien cada casi con
    contra cual cuales cualquier de del desde e el ella ellas ello ellos en entre era eran eres es esa
    esas ese eso esos esta estaba estado estan estar estas este esto estos estoy fue fueron fui ha
    habia han has hasta hay he hubo la las le les lo los mas me mi mis mucho muchos mucha muchas muy nada ni no nos
    nosotros nuestra nuestro o os otra otras otro otros para pero poco por pues que se sea sean segun
    ser si sido siempre sin sobre sois solo son soy su sus tal tambien tan tanto te tenia tiene tienen
    tengo ti tu tus u un una unas uno unos usted ustedes vosotros y ya yo acerca dime decir digas
    cuentame cuentes explica explicame explicar quiero queria quisiera saber sabes puedo puede pueden
    podria podrias hacer hace hacen hizo hicieron favor hola gracias oye porfa tuvo tuvieron tener
    cosa cosas alli ahi existe existen hablame cuentanos funciona funcionan funcionar q k ke tb tmb
    consiste consisten consistio vino viene vienen salio salieron sale salen paso pasa
    alguien alguno nadie todo todos toda todas dar da dan dio dieron doy das dame denme conocer conoce
    conocen conocio conocieron conozco entonces bueno vale oiga ok mio mia mios mias tuyo tuya tuyos tuyas
    suyo suya suyos suyas nuestros nuestras vuestro vuestra vuestros vuestras aqui aca
    durante mediante tras traves dentro fuera cerca ademas aparte incluso tampoco mientras ahora todavia cuyo cuya
    cuyos cuyas manera modo exactamente concretamente
    tenian tenemos tendra tendran tuviera habian habra habran habria haya hayan sera seran seria serian
    fueran siendo estuvo estuvieron estaban estara podia podian podra podran pudo pudieron podemos quiere
    quieren querian va van iba iban ido hacia hacian hara haran dice dicen dijo dijeron habla hablan
    entero entera enteros enteras cualquiera varios varias ambos ambas quizas quiza acaso igual
    principal principales exacto exacta concreto concreta concretos concretas basicamente
    """.split()
)
STOPWORDS_EN: frozenset[str] = frozenset(
    """
    a about above again all also am an and any are as at be been being but by can could did do
    does doing done for from get gets got had has have having he her here hers him his i if in into is
    it its itself just me more most my no nor not of on once only or other others our out over own
    please same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what which while with would you your yours
    hi hello thanks thank tell know want wanted like let lets explain give gives let's else much
    whats thing things stuff held hold take took taken happen happened exist exists dont work works
    working worked pls plz u ur consist consists consisted came come comes
    anyone anybody someone somebody anything something everything everyone everybody make makes made
    making okay ok hey really actually go goes going gone went
    wants during exactly now currently already ever one ones way ways according regarding
    besides apart whole entire each every both either neither several many few lot lots bit little quite rather
    maybe perhaps probably still yet since ago kindly exact anyway somehow
    main overall specific specifically basically
    """.split()
)
STOPWORDS: frozenset[str] = STOPWORDS_ES | STOPWORDS_EN

# Spanish adjectives cut short before a noun ("el primer taller", "un gran impacto", "un buen modelo"), written
# out in full before stemming: Snowball stems "primer" to "prim" but "primero" and "primera" to "primer", so
# "¿fue el primero?" would never meet "el primer ejercicio".
APOCOPES: dict[str, str] = {
    "primer": "primero", "tercer": "tercero", "gran": "grande", "buen": "bueno", "mal": "malo",
    "ningun": "ninguno", "algun": "alguno",
}

# Chat spellings of both languages, expanded before anything else reads the words ("xq" -> "por que",
# which is then the "why" intent; "ppl" -> "people"). Only abbreviations, never misspellings: those are
# corrected against the knowledge base's own vocabulary (`index`), and sound-alike spellings ("kien",
# "yama") meet their word through `text.phonetic`. An empty expansion drops the word (laughter, "btw").
CHAT_ABBREVIATIONS: dict[str, str] = {
    # Spanish
    "q": "que", "k": "que", "ke": "que", "qe": "que", "xq": "por que", "xk": "por que", "pq": "por que",
    "porq": "por que", "x": "por", "d": "de", "pa": "para", "pal": "para el", "tb": "tambien",
    "tmb": "tambien", "tbn": "tambien", "dnd": "donde", "cdo": "cuando", "qdo": "cuando", "xfa": "por favor",
    "porfa": "por favor", "plis": "por favor", "msj": "mensaje", "bn": "bien",
    "nd": "nada", "sq": "es que", "xa": "para", "dl": "del", "tqm": "", "jaja": "", "jajaja": "",
    "jeje": "", "xd": "",
    # English
    "r": "are", "ur": "your", "ppl": "people", "govt": "government", "gov": "government",
    "org": "organisation", "orgs": "organisations", "uni": "university", "unis": "universities",
    "abt": "about", "bout": "about", "bc": "because", "cuz": "because", "coz": "because", "cos": "because",
    "tho": "though", "thru": "through", "wanna": "want to", "gonna": "going to", "gotta": "got to",
    "kinda": "kind of", "sorta": "sort of", "dunno": "do not know", "idk": "i do not know",
    "wat": "what", "wut": "what", "wht": "what", "yr": "year", "yrs": "years", "b4": "before", "n": "and",
    "w": "with", "hrs": "hours", "msg": "message", "pic": "photo", "pics": "photos",
    "approx": "approximately",
    "thx": "thanks", "ty": "thanks", "lol": "", "lmao": "", "omg": "", "btw": "", "imo": "", "fyi": "",
    "tbh": "", "ngl": "",
    # Ordinals in figures; "1a", "2o" also stand for "1ª", "2º", which fold to them
    "1a": "primera", "1o": "primero", "2a": "segunda", "2o": "segundo", "3a": "tercera", "3o": "tercero",
    "1ra": "primera", "1era": "primera", "1ro": "primero", "1er": "primer", "2da": "segunda", "2do": "segundo",
    "3ra": "tercera", "3ro": "tercero", "3er": "tercer", "1st": "first", "2nd": "second", "3rd": "third",
    # The sector's acronyms, written out as the entries say them
    "sse": "social solidarity economy", "ess": "economia social solidaria",
}

# Interrogatives carry what kind of fact is asked for ("when" wants a date, "how many" a number), which
# is what tells apart entries about the same subject. Folded to one token per intent, language-neutral.
# Two-word phrases map to an intent ("?"), a concept ("~") or nothing ("": an idiom to drop).
PHRASES: dict[tuple[str, str], str] = {
    ("how", "many"): "?qty",
    ("how", "much"): "?qty",
    ("how", "big"): "?qty",
    ("how", "large"): "?qty",
    # "How old is X": X's age (`ATTRIBUTE_WORDS`).
    ("how", "old"): "~age",
    ("por", "que"): "?why",
    # "¿De dónde salió la idea?", "¿de dónde salen los recursos?": where from, an origin or a source, not a
    # place; nor an amount when it names one ("de dónde saca los recursos, ¿cuotas?"): `index.OTHER_ATTRIBUTES`.
    ("de", "donde"): "?from",
    # A website asked for: only an answer holding an address answers it (`DETAIL_WORDS`).
    ("pagina", "web"): "?contact",
    ("sitio", "web"): "?contact",
    ("web", "site"): "?contact",
    ("para", "que"): "?why",
    ("what", "year"): "?when",
    ("que", "ano"): "?when",
    # A procedure the user is to follow ("how do I", see `PROCEDURE_OPENERS`), not how something was.
    ("how", "to"): "?howto",
    ("como", "puedo"): "?howto",
    ("como", "podemos"): "?howto",
    ("como", "hago"): "?howto",
    ("como", "hacemos"): "?howto",
    ("como", "debo"): "?howto",
    ("que", "fecha"): "?when",
    ("what", "date"): "?when",
    # A time of day ("what time does it open?"): only a clock time answers it, not a year.
    ("what", "time"): "?hour",
    ("que", "hora"): "?hour",
    ("que", "mes"): "?when",
    ("what", "month"): "?when",
    ("which", "month"): "?when",
    ("which", "year"): "?when",
    ("que", "dia"): "?when",
    ("what", "day"): "?when",
    # How often, and for how long: a frequency is a time ("monthly"), a duration an amount ("two years").
    ("how", "often"): "?when",
    ("cada", "cuanto"): "?when",
    ("how", "long"): "?dur",
    ("cuanto", "tiempo"): "?dur",  # "cuánto tiempo después": how long ("two years"), not a count
    ("que", "lugar"): "?where",
    ("que", "lugares"): "?where",
    ("que", "sitio"): "?where",
    ("que", "sitios"): "?where",
    ("what", "place"): "?where",
    ("what", "places"): "?where",
    ("which", "place"): "?where",
    ("which", "places"): "?where",
    # Idioms for "happen" whose words would otherwise read as "place" (a location).
    ("take", "place"): "",
    ("took", "place"): "",
    ("takes", "place"): "",
    # "se montó" (was set up) folds to "monto", the amount: after "se" it is the verb, not a figure asked.
    ("se", "monto"): "",
    ("tuvo", "lugar"): "",
    ("tuvieron", "lugar"): "",
    ("tiene", "lugar"): "",
    # "dio lugar a", "gave rise to": what something led to (~become), not a place.
    ("dar", "lugar"): "~become",
    ("da", "lugar"): "~become",
    ("dio", "lugar"): "~become",
    ("dieron", "lugar"): "~become",
    ("dado", "lugar"): "~become",
    ("give", "rise"): "~become",
    ("gave", "rise"): "~become",
    ("given", "rise"): "~become",
    ("giving", "rise"): "~become",
    # "how many visits in total", "¿cuántas en total?": all of them, not a word a total budget is asked with.
    ("in", "total"): "",
    ("en", "total"): "",
    # "¿cuántos son, más o menos?": a figure asked roughly, as "aproximadamente" asks it ("o" and "menos" are
    # otherwise a conjunction and a comparative, never what is asked about).
    ("o", "menos"): "~approximate",
    # "has it kept going?": lasted, not kept (stored) as data is.
    ("keep", "going"): "~maintain",
    ("keeps", "going"): "~maintain",
    ("kept", "going"): "~maintain",
    # "what is X short for?": what an acronym stands for.
    ("short", "for"): "~mean",
    # "what did the work turn into / lead to?", "¿en qué se convirtió?": what something became or resulted
    # in ("led" alone is who headed it, `DETAIL_WORDS`).
    ("turn", "into"): "~become",
    ("turned", "into"): "~become",
    ("turns", "into"): "~become",
    # "ended up", "end up": in the end, not an ending (~closing).
    ("end", "up"): "",
    ("ended", "up"): "",
    ("ends", "up"): "",
    ("lead", "to"): "~become",
    ("led", "to"): "~become",
    ("leads", "to"): "~become",
    ("leading", "to"): "~become",
    # "en primer lugar", "in the first place": firstly, not a place.
    ("primer", "lugar"): "",
    ("first", "place"): "",
    # "¿de qué va?", "¿de qué trata?": what is it about.
    ("que", "va"): "",
    ("que", "trata"): "",
    ("se", "trata"): "",
    ("se", "tratan"): "",
    # "¿a quién se dirige?", "se dirige a nuevas entidades": whom something is meant for, not who heads it
    # ("dirige", `DETAIL_WORDS`).
    ("se", "dirige"): "",
    ("se", "dirigen"): "",
    ("take", "part"): "~participant",
    ("took", "part"): "~participant",
    ("takes", "part"): "~participant",
    ("taking", "part"): "~participant",
    ("formar", "parte"): "~participant",
    ("forman", "parte"): "~participant",
    ("forma", "parte"): "~participant",
    ("formaron", "parte"): "~participant",
    ("part", "of"): "~participant",
    # Phrasal verbs of founding: "when was it set up" asks when it started, not why.
    ("set", "up"): "~create",
    ("sets", "up"): "~create",
    ("setting", "up"): "~create",
    # "en cuanto a las relaciones": as regards, not "how many".
    ("en", "cuanto"): "",
    # "¿desde cuándo existe?", "since when", "¿hasta cuándo?": a date asked, even after the subject
    # ("X desde cuándo existe"), where a lone "cuándo" would be read as joining a clause (`RELATIVE_WORDS`).
    ("desde", "cuando"): "?when",
    ("hasta", "cuando"): "?when",
    ("since", "when"): "?when",
    ("until", "when"): "?when",
    # "in charge of", "a cargo de": a responsibility, not a fee; after "who", a post (`POST_PHRASES`).
    ("in", "charge"): "~coordinator",
    ("a", "cargo"): "~coordinator",
    # Spain's regions: "comunidad autónoma", "autonomous community" (not any "comunidad": a community).
    ("comunidad", "autonoma"): "~region",
    ("comunidades", "autonomas"): "~region",
    ("autonomous", "community"): "~region",
    ("autonomous", "communities"): "~region",
}
# "¿De dónde es X?", "¿de dónde son?", "X es de dónde": where X is from, a place, unlike "¿de dónde salió?"
# (an origin or a source, "?from"): "de dónde" beside a form of "ser" asks "where" (`text.analyse_words`).
PLACE_OF_ORIGIN_VERBS: frozenset[str] = frozenset("es son era eran eres sera seran".split())
# "Who is in charge of X", "¿quién está a cargo de X?" ask for the person holding a post, like "who heads
# X" (`DETAIL_WORDS`); "what was X in charge of" asks its responsibility.
POST_PHRASES: frozenset[tuple[str, str]] = frozenset({("in", "charge"), ("a", "cargo")})
# What an answer must contain to answer an intent at all: "how many" wants a number (digits or one of
# these words, "free" among them; not "one", mostly an article), "when" a date (a year in digits or one of
# these words; not "may", mostly a verb). An entry without one is about the question's subject but not
# about what it asks ("When was X founded?" against "What is X?").
NUMBER_WORDS: frozenset[str] = frozenset(
    """
    dos tres cuatro cinco seis siete ocho nueve diez once doce veinte treinta cuarenta cincuenta cien
    ciento cientos mil miles millon millones docena docenas cero gratis gratuito gratuita gratuitos
    gratuitas ninguno ninguna
    two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred hundreds
    thousand thousands million millions dozen dozens zero free none
    """.split()
)
# The months: a date finer than a year. "When" of something the question already dates by its year
# ("what day was Changemaker Day 2021?") is answered by a month or a day, not by the year again.
MONTH_WORDS: frozenset[str] = frozenset(
    """enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
    january february march april may june july august september october november december""".split()
)
DATE_WORDS: frozenset[str] = (MONTH_WORDS - {"may"}) | frozenset(
    """
    lunes martes miercoles jueves viernes sabado domingo ayer hoy manana semana semanas mes meses
    anual anualmente diario diaria semanal mensual siglo semestral bianual trimestral quincenal bimestral
    monday tuesday wednesday thursday friday saturday sunday yesterday today tomorrow week weeks month months
    annual annually daily weekly monthly century biannual biannually quarterly fortnightly yearly biennial
    """.split()
)

# Small numbers as words, so that "the 3 study visits" meets "las tres visitas de estudio".
DIGIT_WORDS: dict[str, tuple[str, ...]] = {
    "1": ("uno", "una", "one"), "2": ("dos", "two"), "3": ("tres", "three"), "4": ("cuatro", "four"),
    "5": ("cinco", "five"), "6": ("seis", "six"), "7": ("siete", "seven"), "8": ("ocho", "eight"),
    "9": ("nueve", "nine"), "10": ("diez", "ten"), "11": ("once", "eleven"), "12": ("doce", "twelve"),
}
# "Who" answered by a kind of people rather than a name ("the finalists received consultancies", "professionals
# of the partner entities took part"): concepts of people and bodies.
PEOPLE_CONCEPTS: frozenset[str] = frozenset(
    {"~finalist", "~participant", "~beneficiary", "~member", "~person", "~student", "~entrepreneurship",
     "~organisation", "~university", "~company", "~government", "~coordinator", "~foundation", "~agency"}
)

# Bodies that have a name: "which organisation / university / agency ..." asks "who" (a name).
NAMED_BODY_CONCEPTS: frozenset[str] = frozenset(
    {"~organisation", "~university", "~company", "~government", "~foundation", "~agency"}
)
# Words that ask which one of a kind ("which organisation", "¿qué universidad?"): the word after one names the kind.
KIND_ASKERS: frozenset[str] = frozenset("which what que cual cuales".split())
# "Which" of a kind, asking to pick one named thing of it ("which hotel"): not "what" or "qué", which also
# ask what something was like ("¿qué carencias había?").
CHOICE_ASKERS: frozenset[str] = frozenset("which cual cuales".split())

# Periods an amount may be asked per ("la cuota anual", "the monthly fee"): only a figure stated for that
# period answers it ("free of charge" is no annual fee).
PERIOD_WORDS: frozenset[str] = frozenset(
    "anual mensual semanal diario diaria semestral trimestral bimestral annual monthly weekly daily yearly "
    "biannual quarterly".split()
)
# Details a question can ask for that only an answer stating that kind of detail gives, whatever else it
# shares with the question: the person holding a post ("who is the director of X", "cómo se llama el
# consejero"), a street address, a way to reach someone (a website, a phone number, an e-mail), who won.
# The entry must use a word of the same kind in its answer: the knowledge base that names no director
# answers no question about one, however close its entry about the organisation is.
DETAIL_WORDS: dict[str, str] = {
    **dict.fromkeys(
        """consejero consejera consejeros director directora directores directoras presidente presidenta
        presidentes ministro ministra ministros rector rectora gerente gerentes jefe jefa jefes alcalde
        alcaldesa gobernador gobernadora ceo president
        presidents minister ministers rector mayor governor chairman chairwoman chairperson manager
        managers""".split(), "?person"),
    # Who heads something now ("¿quién dirige el INAES?"); who led it in the past ("dirigió") may be an organisation.
    **dict.fromkeys("dirige preside encabeza".split(), "?person"),
    **dict.fromkeys("""calle calles domicilio direccion avenida oficina oficinas street address addresses avenue postal
        headquarters office offices""".split(), "?address"),
    # (Not "web" alone: "visibilidad en la web" is a service, not an address.)
    **dict.fromkeys("""website websites url telefono telefonos phone phones
        email correo whatsapp instagram facebook twitter""".split(), "?contact"),
    **dict.fromkeys("gano ganador ganadora ganadores ganadoras won winner winners".split(), "?winner"),
    # Facts of a place itself, not of what happened there: its height, its people, its weather.
    **dict.fromkeys("""altitud altura altitude elevation habitantes inhabitants poblacion population clima climate
        weather llover llueve lluvia rain temperatura temperature""".split(), "?geo"),
}

# Attributes a question can ask of a subject that only an entry speaking of that attribute states: a
# person's age, a salary, what a study or a survey found: per attribute, its words in both languages. An
# entry with none of them (in its questions, title, tags or answer) does not hold it, however much it says
# of the subject ("what did the members' survey conclude?" against the entry saying there was one).
ATTRIBUTE_WORDS: dict[str, str] = {
    **dict.fromkeys(["how old", *"edad edades age ages".split()], "age"),
    **dict.fromkeys("""salario salarios sueldo sueldos remuneracion salary salaries wage wages""".split(), "salary"),
    **dict.fromkeys("""conclusion conclusiones concluyo concluyeron hallazgo hallazgos conclusions concluded
        conclude concludes finding findings""".split(), "findings"),
}

# Verbs of finding: asked of what was ("what did the survey find?", "¿qué encontraron?") they ask for the
# findings (`ATTRIBUTE_WORDS`); otherwise for where to look ("where can I find the report").
FINDING_VERBS: frozenset[str] = frozenset("find found encontro encontraron hallo hallaron".split())

# Words that, followed by "of" ("the population of Palencia", "la altitud de Burgos", "la web de
# Colmena"), ask for that value of something: a figure (a sentence holding the measure with a number:
# "its inhabitants" is no population figure) or an address to reach ("web" alone is no address: "visibilidad
# en la web" is a service, `DETAIL_WORDS`). Without "of" they speak of it without asking its value ("the
# population trend", "jobs and population").
VALUE_OF_WORDS: dict[str, str] = {
    **dict.fromkeys("""altitud altura altitude elevation habitantes inhabitants poblacion population
        temperatura temperature edad age""".split(), "?qty"),
    "web": "?contact",
}
VALUE_OF: frozenset[str] = frozenset({"of", "de", "del"})

# Concepts that are amounts: asking for one ("the budget of X", "el precio") asks "how much" without the
# words, and an entry with no number in its answer cannot answer it.
QUANTITY_CONCEPTS: frozenset[str] = frozenset({"~budget", "~fee"})
# Likewise concepts that are dates or times: asking for one ("el horario", "the date of") asks "when".
TIME_CONCEPTS: frozenset[str] = frozenset({"~date"})
# And those that are hours ("office hours", "el horario de atención"): a time of day, which a year or a
# month does not give.
HOUR_CONCEPTS: frozenset[str] = frozenset({"~schedule"})
# A question about what is to come ("when will the next workshop be?", "¿cuándo será el próximo?"): only a
# date of something to come answers "when" of it, not the date of the last one. (Content words only: "será"
# is a stop word, gone before this is read.)
FUTURE_WORDS: frozenset[str] = frozenset(
    "will upcoming future next proximo proxima proximos proximas futuro futura futuros futuras".split()
)
# And concepts that are places: asking for one ("in which city", "¿en qué lugar?") asks "where".
PLACE_CONCEPTS: frozenset[str] = frozenset({"~city"})
# Words after which a capitalised name is a place ("en Jalisco", "in Dakar", "desde Santander", "to the
# Department of Santa Cruz", "el movimiento cooperativo de León"): what an answer to "where" must hold. (A
# name after "de" that is no place, "la Unión de Cooperativas", is at worst one more name a "where" of it
# may be answered with; the question must still share the sentence's words.)
LOCATIVE_WORDS: frozenset[str] = frozenset("en desde hacia in at from across de del of to".split())
# Words asking for a precise fact: "when" asked exactly ("¿en qué fecha exacta...?", "what exact date")
# wants a day, which a year does not give (a month or a date in digits does).
EXACT_WORDS: frozenset[str] = frozenset(
    "exacto exacta exactos exactas exactamente precisa preciso precisamente exact exactly precise precisely".split()
)
# Words for a day asked; "exact" beside one ("the exact day", "la fecha exacta") asks a day of the month,
# which a month alone ("in October") does not give (`index.EXACT_DAY`).
DAY_WORDS: frozenset[str] = frozenset("day date dia fecha".split())
# Words for a month asked after "which" or "what" ("¿en qué mes?", "in which month"): a month, which a year
# alone does not give (a date in digits does).
MONTH_ASKED: frozenset[str] = frozenset("mes month".split())
# Words asking for others than what the question names ("where else", "¿dónde más, aparte de Burgos?"): the
# places of the other events an entry lists are then what is asked.
BESIDES_WORDS: frozenset[str] = frozenset(
    "else other others besides apart aparte mas ademas otro otra otros otras".split()
)

# Languages, and where a question names one as the language of a name or a text ("its name in Spanish",
# "translate it into English", "the full Spanish name"): the language asked in, not a country or a thing
# the answer must mention (`index.KnowledgeIndex._names_conflict`).
LANGUAGE_WORDS: frozenset[str] = frozenset("english ingles spanish espanol castellano".split())
LANGUAGE_BEFORE: frozenset[str] = frozenset("in into en al a to".split())
LANGUAGE_AFTER: frozenset[str] = frozenset(
    "name names nombre nombres version translation traduccion word words term terms title titulo".split())
# Words that open the source a question cites ("según la ficha de LÍDERES", "according to the project
# description"): the rest of the clause is where the user read it, not what they ask about.
CITING_WORDS: frozenset[str] = frozenset({"segun", "according"})
# After one of those, a source asked for ("¿según qué regla...?", "according to which rule"), not cited.
CITING_ASKED: frozenset[str] = frozenset("que cual cuales quien quienes what which whom who".split())

# "how" followed by one of these and then by "I" or "we" asks for a procedure ("?howto"): "How do I start
# a cooperative?" is not "How did Cooperactivas start?".
PROCEDURE_OPENERS: frozenset[str] = frozenset({"do", "can", "could", "should"})
PROCEDURE_SUBJECTS: frozenset[str] = frozenset({"i", "we"})
# Spanish says it with the person right after "cómo": "¿cómo me inscribo?", "¿cómo puedo postular?",
# "¿cómo hago para...?" ("¿cómo se financia?" asks how something works, not what to do).
PROCEDURE_FOLLOWERS: frozenset[str] = frozenset("me nos puedo podemos podria hago hacemos debo debemos tengo".split())

# "How does X work?" asks what X is, not for a procedure: with one of these words "how" is no intent.
WORKINGS: frozenset[str] = frozenset(
    "funciona funcionan funciono funcionaba funcionaban funcionamiento work works worked working".split()
)
INTENT_WORDS: dict[str, str] = {
    "cuanto": "?qty",
    "numero": "?qty",
    "number": "?qty",
    "cantidad": "?qty",
    "monto": "?qty",  # "the amount of X" asks how much of X, whatever X is
    "importe": "?qty",
    "amount": "?qty",
    "tamano": "?qty",
    "size": "?qty",
    "cuanta": "?qty",
    "cuantos": "?qty",
    "cuantas": "?qty",
    "cuando": "?when",
    "when": "?when",
    "donde": "?where",
    "adonde": "?where",
    "where": "?where",
    "quien": "?who",
    "quienes": "?who",
    "who": "?who",
    "whom": "?who",
    "whose": "?who",
    "why": "?why",
    "porque": "?why",
    "xq": "?why",  # chat spellings of "por qué"
    "pq": "?why",
    "porq": "?why",
    "how": "?how",
}
# Interrogatives that also join a clause to a sentence ("What was special about X when it was launched?",
# "la entidad donde nació"): they ask only when no content word comes before them in their clause.
RELATIVE_WORDS: frozenset[str] = frozenset(
    "when where who whom whose cuando donde adonde quien quienes porque".split()
)
# "como" is "how" only when it opens the question; elsewhere it means "as" ("como socio").
LEADING_INTENT_WORDS: dict[str, str] = {"como": "?how"}

# Words that Snowball stems like an unrelated word: their concept is looked up before stemming
# ("final" stems like "finalista").
# "cooperativa" (an enterprise) stems like "cooperación" (working together), "estudiante" like "estudio"
# and the English "personal" like "person".
SURFACE_CONCEPTS: dict[str, str] = {
    "final": "~closing",
    "finales": "~closing",
    **dict.fromkeys("finalidad finalidades".split(), "~goal"),  # stems like "finalista"
    **dict.fromkeys("estudiante estudiantes estudiantil estudiantiles".split(), "~student"),
    **dict.fromkeys("cooperativa cooperativas cooperativo cooperativos cooperativista cooperativistas "
                    "cooperative cooperatives coop coops".split(), "~cooperative"),
    **dict.fromkeys("personal personales".split(), "~data"),
    # Joining in the past says who is a member ("which entities joined", "quiénes se sumaron"); the
    # infinitive asks about admission ("can new entities join", "cómo unirse"), another question. The
    # stems are shared ("joined" -> "join", "sumaron" -> "sum"), hence surface forms.
    **dict.fromkeys("joined sumaron sumo unieron unio incorporaron incorporo adhirieron adhirio".split(),
                    "~member"),
    # "Estar metido en", being in on something: taking part. Its stem "met" is that of "meta" (a goal).
    **dict.fromkeys("metido metida metidos metidas".split(), "~participant"),
}

# What a question asks about: what can or will be ("can new entities join?", "¿pueden entrar?") or what
# was ("which entities joined?", "¿quiénes se sumaron?"). Past also from the endings of the English past
# and the Spanish preterite plural (`PAST_ENDINGS`, on words long enough to be verbs).
MODAL_WORDS: frozenset[str] = frozenset(
    """
    can could may might will would shall future next
    puede pueden puedo podemos podra podran podria podrian podre podia podian futuro futura proximo proximos proxima
    proximas
    """.split()
)
PAST_WORDS: frozenset[str] = frozenset(
    """
    did was were had went came took made
    fue fueron hubo tuvo tuvieron hizo hicieron estuvo estuvieron
    """.split()
)
PAST_ENDINGS: tuple[str, ...] = ("ed", "aron", "ieron")

# Whether a question asks for something ("what was analysed?", "¿qué se analizó?") or whether something
# holds ("were synergies analysed?", "¿se analizaron sinergias?"): its interrogatives, folded (accents
# gone: "qué" is "que", "cómo" is "como"), and the English auxiliaries that open a yes / no question.
WH_WORDS: frozenset[str] = frozenset(
    """
    que cual cuales quien quienes como donde adonde cuando cuanto cuanta cuantos cuantas porque
    what which who whom whose how where when why
    """.split()
)
YES_NO_OPENERS: frozenset[str] = frozenset(
    "is are was were do does did has have had can could will would should shall may might".split()
)

# Concepts that exclude each other: an entry about one ("the opening seminar") does not answer a question
# about the other ("what was decided at the closing seminar"), however many other words they share.
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("~opening", "~closing"),
)

# Concepts named differently in Spanish and English (and synonyms within a language), so that a
# question in one language finds variants written in the other and a paraphrase finds its entry.
# Generic vocabulary of networks, programmes and the bot itself; never facts of one knowledge base.
# One concept a line, `name: Spanish words | English words`, indented lines continuing the previous
# one; inflections come from stemming. Two concepts must not share a stem (a test checks it): Snowball
# stems "cooperativa" and "cooperación" alike, so they are one concept, and so are "organizó" and
# "organización".
CONCEPTS_TEXT = """
fund: financiar financio financiado financiacion financiamiento fondos financia financiada financiaron
    fondo dinero plata pasta pagar pago pagos pagaron pagado | fund funded funding funds finance financed
    financing financial money pay paid pays payment payments
budget: presupuesto coste costo | budget cost
approximate: aproximadamente aproximado aproximada aproximados aproximadas alrededor | approximately approximate
    roughly around
contribute: aportar aporto aporte aportacion aportaron contribuir contribucion contribuyo contribuye poner
    puso pusieron | contribute contributed contribution contributes provide provided bring brought put
country: pais paises nacion | country countries nation
member: socio socios socia socias miembro miembros afiliado afiliados aliado aliados pertenece pertenecen
    pertenecer | member members membership affiliate partner partners ally allies belong belongs
join: sumarse sumar unirse unir incorporarse incorporar | join joining joins
partnership: alianza consorcio coalicion partenariado partenariados | partnership alliance consortium coalition
organisation: entidad entidades organizacion organizaciones institucion instituciones organismo
    organismos dirigio dirigieron dirigir encabezo encabezaron | organisation organization organisations
    organizations entity entities institution institutions body bodies ran run runs led hosted spearhead
    spearheads spearheaded spearheading
seminar: seminario seminarios jornada jornadas conferencia conferencias | seminar seminars conference
    conferences
workshop: taller talleres | workshop workshops
training: capacitacion capacitaciones formacion formaciones curso cursos entrenamiento capacitar ensenar
    ensenaron enseno | training trainings course courses train trained teach taught
visit: visita visitas viaje viajes visitar visitaron | visit visits visited trip trips tour
participant: participante participantes asistente asistentes participar participaron participan
    participa asistieron | participant participants attendee attendees participate participated attend
    attended
beneficiary: beneficiario beneficiarios beneficiaria beneficiarias | beneficiary beneficiaries
person: persona personas gente | person people persons folks
goal: objetivo objetivos meta metas proposito propositos mision misiones intenta intentan
    | goal goals objective objectives aim aims purpose purposes target point mission missions try tries trying
create: crear creo creado creada fundar fundo fundada fundado nacio nace surgio surge origen comenzo
    empezo creacion fundaron crearon arrancar arranco arrancaron lanzar lanzo lanzaron | create created creation
    found founded establish established start started begin began born origin launched launch
service: servicio servicios prestacion prestaciones ofrece ofrecen ofrecer brinda brindan | service
    services offer offers offered
competition: concurso concursos competencia certamen convocatoria | competition competitions contest
    contests call
submit: presentar presento enviar envio mandar postular postulo inscribir inscribo subir | submit
    submission send apply application enter upload
mentoring: mentoria mentorias mentor mentores mentora tutoria tutorias acompanamiento | mentoring
    mentorship mentor mentors coaching tutoring
book: reservar reservo reserva agendar agendo pedir solicitar cita | book booking schedule reserve
    appointment request
data: dato datos informacion | data information info
privacy: privacidad proteccion confidencialidad | privacy protection confidentiality
delete: borrar borren eliminar eliminen olvidar olviden suprimir baja | delete erase remove forget
    unsubscribe
impact: impacto impactos efecto efectos | impact impacts effect effects
evaluate: evaluacion evaluar evaluo evaluado evaluada medicion medir valoracion | evaluation evaluate
    evaluated assessment assess assessed measure measured
government: gobierno gobiernos administracion consejeria | government governments administration
foundation: fundacion fundaciones | foundation foundations
role: papel rol tarea cometido | role roles function task responsibility
network: red redes | network networks
economy: economia economica economico | economy economic
social: social sociales | social
solidarity: solidaria solidario solidaridad | solidarity
entrepreneurship: emprendimiento emprendimientos emprender emprendedor emprendedores emprendedora
    emprendedoras | entrepreneurship entrepreneur entrepreneurs entrepreneurial startup startups
innovation: innovacion innovaciones innovador innovadora innovar | innovation innovations innovative
    innovate
company: empresa empresas negocio negocios compania companias | company companies business businesses
    enterprise enterprises firm firms
programme: programa programas | programme programmes program programs
project: proyecto proyectos iniciativa iniciativas | project projects initiative initiatives
age: edad edades | age ages
result: resultado resultados logro logros | result results outcome outcomes achievement achievements
become: convertir convirtio convirtieron convertido convertida convierte convierten convertirse | become
    became becomes
support: apoyo apoyos apoyar ayuda ayudas respaldo apoyaron | support supports supported help aid
    backing
university: universidad universidades universitario universitaria universitarios | university
    universities college
student: alumno alumnos alumna alumnas | student students pupil
year: ano anos | year years
date: fecha fechas dia mes meses | date dates day month months
schedule: horario horarios hora horas calendario | hours hour timetable calendar
mean: significa significado sigla siglas acronimo abreviatura | mean means meaning stand stands acronym
    abbreviation
name: nombre nombres | name names
after: despues posterior posteriormente luego continuacion siguiente siguio siguieron | after afterwards later next
    following followed continuation
closing: cierre clausura | closing close final end
opening: apertura inauguracion inicial lanzamiento | opening inaugural kickoff
policy: politica politicas | policy policies political
agency: agencia agencias | agency agencies
chamber: camara camaras | chamber chambers
sustainability: sostenibilidad sostenible sostenibles sustentable sustentabilidad | sustainability
    sustainable
environment: ambiental ambientales medioambiental ambiente medioambiente | environmental environment
    green
factor: factor factores clave claves motivo motivos razon razones | factor factors key reason reasons
    driver drivers
experience: experiencia experiencias practica practicas caso casos | experience experiences practice
    practices case cases
international: internacional internacionales extranjero extranjeras extranjeros | international foreign
    abroad
city: ciudad ciudades lugar lugares sitio sitios | city cities place places location locations
session: sesion sesiones reunion reuniones encuentro encuentros | session sessions meeting meetings
promote: promover promueve promueven promovido promovida promotor promotores impulsar impulsa impulsan
    impulsado impulsada impulsor impulsores detras | promote promotes promoted promoter promoters drive drives
    driven behind
use: usar usan uso utilizar utilizan tratamiento gestionar gestionan manejar manejan | use uses used
    handle handles handled treat process processing manage
store: guardar guarda guardan guardais almacenar almacena almacenan conservar conserva conservan
    | store stores stored keep keeps kept save saves saved retain retains
reminder: recordatorio recordatorios recordar aviso avisos | reminder reminders remind notification
    notifications
language: idioma idiomas lengua lenguaje | language languages
contact: contacto contactar comunicarme escribir | contact reach write
coordinator: coordinador coordinadora coordinadores responsable responsables | coordinator coordinators
need: necesidad necesidades necesito necesitar necesita | need needs require
find: buscar busco encontrar hallar | find search look looking
idea: idea ideas propuesta propuestas | idea ideas proposal proposals
finalist: finalista finalistas ganador ganadores ganadora seleccionados | finalist finalists winner
    winners shortlisted
prize: premio premios recompensa galardon ganar ganan gano ganaron | prize prizes award awards reward
    win wins won
receive: recibir recibe reciben obtener obtienen obtiene obtuvo obtuvieron obtenido obtenida obtenidos
    obtenidas consiguen consiguio consiguieron sacar saca sacan saco sacaron | receive receives received
    obtain obtains obtained gain gains gained
consultancy: consultoria consultorias asesoria asesorias asesoramiento consultor consultores |
    consultancy consultancies consulting advice advisory consultant consultants
employment: empleo empleos ocupacion | employment job jobs
population: demografia demografica demografico poblacion despoblacion | demography demographic
    demographics population depopulation
incubation: incubacion incubadora incubar aceleracion aceleradora | incubation incubator incubate
    acceleration accelerator
cooperation: cooperacion colaboracion cooperar colaborar | cooperation collaboration cooperate collaborate
fee: cuota cuotas precio tarifa | fee fees price charge
subsidy: subvencion subvenciones subsidio subsidios donacion donaciones | subsidy subsidies grant grants
    donation donations
europe: europa europea europeo ue bruselas | europe european eu brussels
mexico: mexico mexicano mexicana | mexico mexican
spain: espana espanol espanola | spain spanish
bolivia: bolivia boliviano boliviana | bolivia bolivian
sdg: ods | sdg sdgs
development: desarrollo | development
important: importante importancia relevante relevancia importa | important importance relevant relevance
    matter matters
pandemic: pandemia covid covid19 coronavirus | pandemic covid covid19 coronavirus
registered: registrado registradas registrados inscritos inscritas adheridos | registered enrolled
    signed
topic: tema temas contenido contenidos trataron trato abordaron | topic topics content subject subjects
    covered
decide: definio definieron decidio decidieron acordaron acordo acuerdo acuerdos definir | decide decided
    decision agreed agreement defined define
share: compartir compartieron compartio intercambio intercambios intercambiar intercambiaron | share shared
    sharing exchange exchanged exchanges swap swaps swapped swapping
model: modelo modelos metodologia metodologias metodo | model models methodology methodologies method
see: ver veo ve ven vio vieron visto vista vistos mostrar mostro mostraron mostrado | see sees saw seen
    view views viewed show shows showed shown
addiction: adiccion adicciones droga drogas | addiction addictions drug drugs
benefit: beneficio beneficios ventaja ventajas provecho | benefit benefits advantage advantages
region: region regiones territorio territorios zona zonas | region regions territory territories area areas
invite: invitar invito invitados invitadas invitaron convocar convoco convocados convocadas convocaron |
    invite invited invitation invitations
profit: ganancia ganancias lucro excedente excedentes | profit profits earnings surplus
format: formato formatos | format formats
learn: aprender aprende aprenden aprendio aprendieron aprendido aprendida | learn learns learned learnt
possible: posible posibles posibilitar posibilito posibilitaron permitio permitieron | possible enable
    enabled enables enabling
maintain: mantener mantiene mantienen mantuvo mantuvieron mantenido mantenida mantenidos mantenidas perdurar
    perduro perduraron sobrevivir sobrevivio | maintain maintains maintained maintaining survive survives
    survived persist persists persisted
implement: implementar implementa implementan implementado implementada implementando implementacion
    aplicar aplica aplican aplicado aplicada aplicando | implement implements implemented implementing
    implementation
level: nivel niveles | level levels tier tiers
head: presidente presidenta presidentes director directora directores directoras jefe jefa jefes gerente
    gerentes | president presidents chair chairman chairwoman chairperson director directors head
photo: foto fotos fotografia fotografias imagen imagenes galeria galerias | photo photos photograph
    photographs picture pictures image images gallery galleries
kind: tipo tipos clase clases | kind kinds type types sort sorts
mention: mencionar menciona mencionan mencionado mencionada mencionados mencionadas mencion | mention
    mentions mentioned
women: mujer mujeres | woman women
sme: pyme pymes mipyme mipymes | sme smes msme msmes
external: externo externos externa externas ajeno ajenos ajena ajenas | external outside outsider outsiders
"""


def _parse_concepts(text: str) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    joined = re.sub(r"\n\s+", " ", text.strip())
    out = []
    for line in joined.splitlines():
        name, words = line.split(":", 1)
        es_words, en_words = words.split("|")
        out.append((f"~{name.strip()}", tuple(es_words.split()), tuple(en_words.split())))
    return tuple(out)


# (concept, Spanish words, English words)
CONCEPTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = _parse_concepts(CONCEPTS_TEXT)


# Common words of Spanish and English, folded: `common_words.txt` beside this file says where they come from
# (a word frequency list, cut at 30 uses per million words, about 5,300 words) and how to regenerate them.
COMMON_WORDS: frozenset[str] = frozenset(
    line for line in (Path(__file__).with_name("common_words.txt").read_text(encoding="utf-8").split("\n"))
    if line and not line.startswith("#"))

# A rate or a share asked ("the interest rate of the loans", "la tasa de paro", "what percentage of the
# members"): a figure per hundred, which only an entry speaking of a rate or writing a percentage states
# (an attribute as `ATTRIBUTE_WORDS` are): an entry about the loans, with their fees in euros, does not.
RATE_WORDS: frozenset[str] = frozenset(
    """tasa tasas porcentaje porcentajes rate rates percentage percentages""".split()
)
