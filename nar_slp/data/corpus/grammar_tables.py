"""Lexical data tables of the weather-forecast grammar (``grammar``).

Word lists, synonym sets, gloss IDs and phrase variants, in English ("en") and German
("de"): numbers and ordinals, days, months and time adverbials, compass directions,
landscapes, regions and foreign places, weather phenomena and their modifiers, and the
fillers of the clause templates (frequencies, wind strengths, comparatives, movers...).
``grammar`` draws from these tables to build sentences and gloss sequences; nothing here
draws random numbers. Tuple and dict order matters: the grammar picks entries by index,
so reordering a table changes the generated corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- numbers
EN_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve "
    "thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
DE_UNITS = (
    "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf "
    "dreizehn vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn"
).split()
EN_TENS = {20: "twenty", 30: "thirty"}
DE_TENS = {20: "zwanzig", 30: "dreißig"}
MAX_NUMBER = 35  # number glosses ZERO .. THIRTY-FIVE

EN_ORD = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
    "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
    "nineteenth"
).split()


# ------------------------------------------------------------------------ time phrases
DAYS = (
    ("MONDAY", "monday", "montag"),
    ("TUESDAY", "tuesday", "dienstag"),
    ("WEDNESDAY", "wednesday", "mittwoch"),
    ("THURSDAY", "thursday", "donnerstag"),
    ("FRIDAY", "friday", "freitag"),
    ("SATURDAY", "saturday", "samstag"),
    ("SUNDAY", "sunday", "sonntag"),
)
MONTHS = (
    ("JANUARY", "january", "januar"),
    ("FEBRUARY", "february", "februar"),
    ("MARCH", "march", "märz"),
    ("APRIL", "april", "april"),
    ("MAY", "may", "mai"),
    ("JUNE", "june", "juni"),
    ("JULY", "july", "juli"),
    ("AUGUST", "august", "august"),
    ("SEPTEMBER", "september", "september"),
    ("OCTOBER", "october", "oktober"),
    ("NOVEMBER", "november", "november"),
    ("DECEMBER", "december", "dezember"),
)
DAY_PARTS = (
    ("MORNING", "morning", "morgen"),
    ("AFTERNOON", "afternoon", "nachmittag"),
    ("EVENING", "evening", "abend"),
    ("NIGHT", "night", "nacht"),
)

# (gloss IDs, English variants, German variants)
TIMES: tuple[tuple[list[str], list[str], list[str]], ...] = (
    (["TODAY"], ["today"], ["heute"]),
    (["TOMORROW"], ["tomorrow"], ["morgen"]),
    (["DAY-AFTER-TOMORROW"], ["the day after tomorrow"], ["übermorgen"]),
    (["TODAY", "NIGHT"], ["tonight"], ["heute nacht"]),
    (["TODAY", "EVENING"], ["this evening"], ["heute abend"]),
    (["TOMORROW", "MORNING"], ["tomorrow morning"], ["morgen früh"]),
    (["TOMORROW", "AFTERNOON"], ["tomorrow afternoon"], ["morgen nachmittag"]),
    (["MORNING"], ["in the morning"], ["am morgen", "morgens"]),
    (["DAY"], ["during the day"], ["am tag", "tagsüber"]),
    (["AFTERNOON"], ["in the afternoon"], ["am nachmittag", "nachmittags"]),
    (["EVENING"], ["in the evening"], ["am abend", "abends"]),
    (
        ["NIGHT"],
        ["at night", "during the night", "in the night"],
        ["in der nacht", "nachts"],
    ),
    (
        ["WEEKEND"],
        ["at the weekend", "over the weekend", "on the weekend"],
        ["am wochenende"],
    ),
    (
        ["NEXT", "DAY"],
        ["in the coming days", "over the next few days"],
        ["in den nächsten tagen", "in den kommenden tagen"],
    ),
    (
        ["DURING", "DAY"],
        ["in the course of the day", "as the day goes on"],
        ["im laufe des tages"],
    ),
    (["LATER"], ["later", "later on"], ["später"]),
    (["NOON"], ["at noon", "around noon"], ["mittags", "gegen mittag"]),
    (
        ["MIDNIGHT"],
        ["around midnight", "after midnight"],
        ["um mitternacht", "nach mitternacht"],
    ),
    (
        ["WEEK", "BEGINNING"],
        ["at the beginning of the week", "early in the week"],
        ["zu beginn der woche", "anfang der woche"],
    ),
    (["WEEK", "MIDDLE"], ["in the middle of the week", "midweek"], ["mitte der woche"]),
    (
        ["WEEK", "END"],
        ["at the end of the week", "towards the end of the week"],
        ["zum ende der woche", "ende der woche"],
    ),
    (["DAY", "WHOLE"], ["all day", "the whole day"], ["den ganzen tag"]),
    (["UNTIL", "EVENING"], ["until the evening"], ["bis zum abend"]),
)


# ----------------------------------------------------------------------- place phrases
# (gloss, en noun, en adjective, de noun, de adjective, de short wind form)
DIRECTIONS = (
    ("NORTH", "north", "northern", "norden", "nördlichen", "nord"),
    ("SOUTH", "south", "southern", "süden", "südlichen", "süd"),
    ("EAST", "east", "eastern", "osten", "östlichen", "ost"),
    ("WEST", "west", "western", "westen", "westlichen", "west"),
    ("NORTHEAST", "northeast", "northeastern", "nordosten", "nordöstlichen", "nordost"),
    (
        "NORTHWEST",
        "northwest",
        "northwestern",
        "nordwesten",
        "nordwestlichen",
        "nordwest",
    ),
    ("SOUTHEAST", "southeast", "southeastern", "südosten", "südöstlichen", "südost"),
    ("SOUTHWEST", "southwest", "southwestern", "südwesten", "südwestlichen", "südwest"),
)
LANDSCAPES: tuple[tuple[list[str], list[str], list[str]], ...] = (
    (
        ["CENTER"],
        ["in the centre", "in the central parts", "in the middle of the country"],
        ["in der mitte", "in den mittleren landesteilen", "in der mitte des landes"],
    ),
    (
        ["COAST"],
        ["along the coast", "on the coast", "at the coasts"],
        ["an der küste", "an den küsten"],
    ),
    (
        ["MOUNTAIN"],
        ["in the mountains", "in the highlands"],
        ["in den bergen", "im bergland"],
    ),
    (["ALPS"], ["in the alps"], ["in den alpen"]),
    (
        ["ALPS", "EDGE"],
        ["at the edge of the alps", "along the edge of the alps"],
        ["am alpenrand"],
    ),
    (["NORTH-SEA"], ["at the north sea", "on the north sea coast"], ["an der nordsee"]),
    (["BALTIC-SEA"], ["at the baltic sea", "on the baltic coast"], ["an der ostsee"]),
    (
        ["LOWLAND"],
        ["in the lowlands", "in the flat country"],
        ["im flachland", "im tiefland"],
    ),
    (
        ["UPLANDS"],
        ["in the low mountain ranges", "in the uplands"],
        ["im mittelgebirge", "in den mittelgebirgen"],
    ),
    (["VALLEY"], ["in the valleys"], ["in den tälern"]),
    (["ISLAND"], ["on the islands"], ["auf den inseln"]),
    (["RIVER"], ["along the rivers", "near the rivers"], ["an den flüssen"]),
    (
        ["CITY"],
        ["in the cities", "in the big cities"],
        ["in den städten", "in den großstädten"],
    ),
    (
        ["EVERYWHERE"],
        ["everywhere", "across the country", "nationwide"],
        ["überall", "bundesweit"],
    ),
    (
        ["GERMANY", "ALL"],
        ["in all of germany", "all over germany"],
        ["in ganz deutschland"],
    ),
    (
        ["REST"],
        ["elsewhere", "in the rest of the country"],
        ["sonst", "im übrigen land", "in den übrigen landesteilen"],
    ),
    (["MANY", "PLACE"], ["in many places"], ["vielerorts", "an vielen orten"]),
    (["LOCAL"], ["in some places", "locally"], ["örtlich", "stellenweise"]),
)
# (gloss, en place phrase, de place phrase)
REGIONS = (
    ("BAVARIA", "in bavaria", "in bayern"),
    ("BADEN-WUERTTEMBERG", "in baden wuerttemberg", "in baden württemberg"),
    ("SAXONY", "in saxony", "in sachsen"),
    ("THURINGIA", "in thuringia", "in thüringen"),
    ("HESSE", "in hesse", "in hessen"),
    ("BRANDENBURG", "in brandenburg", "in brandenburg"),
    ("BERLIN", "in berlin", "in berlin"),
    ("HAMBURG", "in hamburg", "in hamburg"),
    ("BREMEN", "in bremen", "in bremen"),
    ("MECKLENBURG", "in mecklenburg western pomerania", "in mecklenburg vorpommern"),
    ("LOWER-SAXONY", "in lower saxony", "in niedersachsen"),
    ("SCHLESWIG-HOLSTEIN", "in schleswig holstein", "in schleswig holstein"),
    ("RHINELAND-PALATINATE", "in rhineland palatinate", "in rheinland pfalz"),
    ("SAARLAND", "in saarland", "im saarland"),
    ("NORTH-RHINE-WESTPHALIA", "in north rhine westphalia", "in nordrhein westfalen"),
    ("SAXONY-ANHALT", "in saxony anhalt", "in sachsen anhalt"),
    ("RHINE", "along the rhine", "am rhein"),
    ("DANUBE", "along the danube", "an der donau"),
    ("ELBE", "along the elbe", "an der elbe"),
    ("BLACK-FOREST", "in the black forest", "im schwarzwald"),
    ("HARZ", "in the harz", "im harz"),
    ("BAVARIAN-FOREST", "in the bavarian forest", "im bayerischen wald"),
    ("ORE-MOUNTAINS", "in the ore mountains", "im erzgebirge"),
    ("EIFEL", "in the eifel", "in der eifel"),
    ("RUHR", "in the ruhr area", "im ruhrgebiet"),
    ("LAKE-CONSTANCE", "at lake constance", "am bodensee"),
    ("ALLGAEU", "in the allgaeu", "im allgäu"),
    ("LUSATIA", "in lusatia", "in der lausitz"),
    ("EMSLAND", "in emsland", "im emsland"),
    ("MUNICH", "around munich", "rund um münchen"),
    ("COLOGNE", "around cologne", "rund um köln"),
    ("FRANKFURT", "around frankfurt", "rund um frankfurt"),
    ("DRESDEN", "around dresden", "rund um dresden"),
    ("LEIPZIG", "around leipzig", "rund um leipzig"),
    ("STUTTGART", "around stuttgart", "rund um stuttgart"),
    ("HANOVER", "around hanover", "rund um hannover"),
    ("NUREMBERG", "around nuremberg", "rund um nürnberg"),
    ("KIEL", "around kiel", "rund um kiel"),
    ("ROSTOCK", "around rostock", "rund um rostock"),
    ("MAGDEBURG", "around magdeburg", "rund um magdeburg"),
    ("ERFURT", "around erfurt", "rund um erfurt"),
    ("BONN", "around bonn", "rund um bonn"),
    ("MAINZ", "around mainz", "rund um mainz"),
    ("POTSDAM", "around potsdam", "rund um potsdam"),
    ("FREIBURG", "around freiburg", "rund um freiburg"),
    ("AUGSBURG", "around augsburg", "rund um augsburg"),
    ("REGENSBURG", "around regensburg", "rund um regensburg"),
)
# (gloss, en noun phrase, de dative noun phrase): weather comes from abroad
FOREIGN = (
    ("ATLANTIC", "the atlantic", "dem atlantik"),
    ("SCANDINAVIA", "scandinavia", "skandinavien"),
    ("BRITAIN", "the british isles", "den britischen inseln"),
    ("FRANCE", "france", "frankreich"),
    ("POLAND", "poland", "polen"),
    ("AUSTRIA", "austria", "österreich"),
    ("SWITZERLAND", "switzerland", "der schweiz"),
    ("DENMARK", "denmark", "dänemark"),
    ("NETHERLANDS", "the netherlands", "den niederlanden"),
    ("MEDITERRANEAN", "the mediterranean", "dem mittelmeer"),
    ("RUSSIA", "russia", "russland"),
    ("ICELAND", "iceland", "island"),
    ("BISCAY", "the bay of biscay", "der biskaya"),
    ("CZECHIA", "the czech republic", "tschechien"),
    ("BELGIUM", "belgium", "belgien"),
    ("ITALY", "italy", "italien"),
    ("SPAIN", "spain", "spanien"),
    ("AZORES", "the azores", "den azoren"),
    ("ARCTIC", "the arctic", "der arktis"),
)


# ------------------------------------------------------------------------- phenomena
@dataclass(frozen=True)
class Phenomenon:
    """A weather phenomenon and the ways to talk about it."""

    glosses: tuple[str, ...]
    en_nouns: tuple[tuple[str, str], ...]  # (noun phrase, "s" mass | "p" plural)
    de_nouns: tuple[tuple[str, str], ...]  # (noun phrase, gender m/f/n or p plural)
    mods: tuple[str, ...] = ()  # modifier gloss IDs that make sense with it
    en_adj: tuple[str, ...] = ()  # "it will be rainy"
    de_adj: tuple[str, ...] = ()
    en_verb: str | None = None  # "it will rain"
    de_verb: str | None = None  # "regnet es"


PHENOMENA: tuple[Phenomenon, ...] = (
    Phenomenon(
        ("RAIN",),
        (("rain", "s"), ("rainfall", "s")),
        (("regen", "m"),),
        ("STRONG", "WEAK", "LITTLE", "MUCH", "LONG"),
        ("rainy", "wet"),
        ("regnerisch", "nass"),
        "rain",
        "regnet",
    ),
    Phenomenon(
        ("SHOWER",),
        (("showers", "p"), ("rain showers", "p")),
        (("schauer", "p"), ("regenschauer", "p")),
        ("STRONG", "WEAK", "ISOLATED", "LITTLE", "MUCH"),
    ),
    Phenomenon(
        ("THUNDERSTORM",),
        (("thunderstorms", "p"),),
        (("gewitter", "p"),),
        ("STRONG", "SEVERE", "ISOLATED", "LITTLE"),
    ),
    Phenomenon(
        ("SHOWER", "THUNDERSTORM"),
        (("thundery showers", "p"),),
        (("gewitterschauer", "p"),),
        ("STRONG", "ISOLATED", "LITTLE"),
    ),
    Phenomenon(
        ("SNOW",),
        (("snow", "s"), ("snowfall", "s")),
        (("schnee", "m"), ("schneefall", "m")),
        ("STRONG", "WEAK", "LITTLE", "MUCH", "LONG"),
        (),
        (),
        "snow",
        "schneit",
    ),
    Phenomenon(
        ("RAIN", "SNOW"),
        (("rain and snow", "s"),),
        (("regen und schnee", "m"),),
        ("LITTLE", "MUCH"),
    ),
    Phenomenon(
        ("SLEET",), (("sleet", "s"),), (("schneeregen", "m"),), ("LITTLE", "WEAK")
    ),
    Phenomenon(("HAIL",), (("hail", "s"),), (("hagel", "m"),), ("STRONG", "LITTLE")),
    Phenomenon(
        ("DRIZZLE",),
        (("drizzle", "s"),),
        (("nieselregen", "m"), ("sprühregen", "m")),
        ("WEAK", "LITTLE"),
    ),
    Phenomenon(
        ("FOG",),
        (("fog", "s"), ("mist", "s")),
        (("nebel", "m"), ("dunst", "m")),
        ("DENSE", "LONG"),
        ("foggy", "misty"),
        ("neblig", "dunstig"),
    ),
    Phenomenon(
        ("SUN",),
        (("sunshine", "s"), ("sun", "s")),
        (("sonne", "f"), ("sonnenschein", "m")),
        ("MUCH", "LITTLE", "LONG"),
        ("sunny",),
        ("sonnig",),
    ),
    Phenomenon(
        ("CLOUD",),
        (("clouds", "p"),),
        (("wolken", "p"),),
        ("MUCH", "DENSE", "LITTLE"),
        ("cloudy", "overcast"),
        ("bewölkt", "wolkig", "bedeckt"),
    ),
    Phenomenon(
        ("FROST",),
        (("frost", "s"),),
        (("frost", "m"),),
        ("STRONG", "WEAK"),
        ("frosty",),
        ("frostig",),
    ),
    Phenomenon(
        ("GROUND", "FROST"), (("ground frost", "s"),), (("bodenfrost", "m"),), ("WEAK",)
    ),
    Phenomenon(
        ("SLIPPERY",),
        (("black ice", "s"), ("icy roads", "p")),
        (("glätte", "f"), ("glatteis", "n")),
    ),
    Phenomenon(("DEW",), (("dew", "s"),), (("tau", "m"),), ("MUCH",)),
    Phenomenon(
        ("HOARFROST",),
        (("hoarfrost", "s"), ("rime", "s")),
        (("raureif", "m"),),
        ("LITTLE",),
    ),
    Phenomenon(
        ("SNOW", "STORM"),
        (("snowstorms", "p"), ("blizzards", "p")),
        (("schneestürme", "p"),),
        ("SEVERE", "ISOLATED"),
    ),
    Phenomenon(("HEAT",), (("heat", "s"),), (("hitze", "f"),), ("STRONG",)),
    Phenomenon(
        ("STORM",),
        (("storm", "s"), ("gales", "p")),
        (("sturm", "m"),),
        ("STRONG", "SEVERE"),
        ("stormy",),
        ("stürmisch",),
    ),
    Phenomenon(
        ("GUST",),
        (("gusts", "p"), ("squalls", "p")),
        (("böen", "p"),),
        ("STRONG", "SEVERE"),
    ),
    Phenomenon(("DRY",), (), (), (), ("dry",), ("trocken",)),
    Phenomenon(("HUMID",), (), (), (), ("humid", "muggy"), ("schwül",)),
    Phenomenon(
        ("CLEAR",),
        (("clear skies", "p"),),
        (("klar_ himmel", "m"),),
        (),
        ("clear",),
        ("klar",),
    ),
)
NOUN_PHENOMENA = tuple(p for p in PHENOMENA if p.en_nouns)

# Modifier realisations. English: attributive adjectives (or quantifiers for mass "s"
# and plural "p" nouns) and adverbs; German: adjective stems inflected by
# ``grammar._de_adj`` with the endings DE_END, "=" marks an uninflected quantifier.
MOD_EN_ADJ = {
    "STRONG": ("heavy", "strong", "intense"),
    "WEAK": ("light", "weak", "slight"),
    "ISOLATED": ("isolated", "scattered"),
    "DENSE": ("dense", "thick"),
    "SEVERE": ("severe", "violent"),
    "LONG": ("persistent", "prolonged"),
}
MOD_EN_QUANT = {
    ("LITTLE", "s"): ("a little", "some"),
    ("LITTLE", "p"): ("a few", "some"),
    ("MUCH", "s"): ("a lot of", "plenty of"),
    ("MUCH", "p"): ("many", "a lot of"),
}
MOD_EN_ADV = {
    "STRONG": ("heavily",),
    "WEAK": ("lightly", "slightly"),
    "LITTLE": ("a little",),
    "MUCH": ("a lot",),
    "LONG": ("for a long time",),
}
MOD_DE_ADJ = {
    "STRONG": ("kräftig", "stark", "heftig"),
    "WEAK": ("leicht", "schwach"),
    "ISOLATED": ("vereinzelt", "einzeln"),
    "DENSE": ("dicht",),
    "SEVERE": ("schwer",),
    "LONG": ("anhaltend", "ergiebig"),
}
MOD_DE_QUANT = {
    ("LITTLE", "s"): ("=etwas", "=ein wenig"),
    ("LITTLE", "p"): ("einig",),
    ("MUCH", "s"): ("=viel",),
    ("MUCH", "p"): ("viel",),
}
MOD_DE_ADV = {
    "STRONG": ("kräftig", "stark"),
    "WEAK": ("leicht",),
    "LITTLE": ("etwas", "ein wenig"),
    "MUCH": ("viel",),
    "LONG": ("lange", "längere zeit"),
}
# strong adjective endings by case, then gender m/f/n or p plural
DE_END = {
    "nom": {"m": "er", "f": "e", "n": "es", "p": "e"},
    "acc": {"m": "en", "f": "e", "n": "es", "p": "e"},
    "dat": {"m": "em", "f": "er", "n": "em", "p": "en"},
}


# --------------------------------------------------------------------------- clauses
# (gloss, en frequency adverbs, de frequency adverbs): clause_weather
FREQ = (
    (
        "SOMETIMES",
        ("at times", "now and then", "occasionally"),
        ("zeitweise", "ab und zu"),
    ),
    ("OFTEN", ("often", "frequently"), ("oft", "häufig")),
    ("AGAIN", ("again", "once again"), ("wieder", "erneut")),
)
# (gloss, en wind strength, de adjective stem): clause_wind
WIND_MODS = (
    ("WEAK", "light", "schwach"),
    ("MODERATE", "moderate", "mäßig"),
    ("FRESH", "fresh", "frisch"),
    ("STRONG", "strong", "stark"),
    ("STORM", "stormy", "stürmisch"),
)
# (gloss, en comparative, de comparative): clause_trend, "it gets warmer"
COMPARATIVES = (
    ("WARM", "warmer", "wärmer"),
    ("COLD", "colder", "kälter"),
    ("MILD", "milder", "milder"),
    ("FRIENDLY", "friendlier", "freundlicher"),
    ("CHANGEABLE", "more changeable", "wechselhafter"),
)
# (gloss, en adjectives, de adjectives): clause_trend, "the weather remains..."
REMAIN = (
    ("CHANGEABLE", ("changeable", "unsettled"), ("wechselhaft", "unbeständig")),
    ("DRY", ("dry",), ("trocken",)),
    ("MILD", ("mild",), ("mild",)),
    ("COLD", ("cold",), ("kalt",)),
    ("WARM", ("warm",), ("warm",)),
    ("SUN", ("sunny",), ("sonnig",)),
    ("WINTER", ("wintry",), ("winterlich",)),
    ("SUMMER", ("summery",), ("sommerlich",)),
    ("AUTUMN", ("autumnal",), ("herbstlich",)),
    ("FRIENDLY", ("friendly", "pleasant"), ("freundlich",)),
    ("WET", ("wet",), ("nass",)),
    ("SPRING", ("springlike",), ("frühlingshaft",)),
    ("CLOUD", ("cloudy", "grey"), ("trüb", "grau")),
)
# (gloss, en subject, de subject, de plural?): clause_trend, "the rain moves..."
MOVERS = (
    ("RAIN", "the rain", "der regen", False),
    ("RAIN", "the band of rain", "das regengebiet", False),
    ("SHOWER", "the showers", "die schauer", True),
    ("THUNDERSTORM", "the thunderstorms", "die gewitter", True),
    ("SNOW", "the snow", "der schnee", False),
    ("CLOUD", "the clouds", "die wolken", True),
    ("FOG", "the fog", "der nebel", False),
)
# (gloss, en adjective, de adjective stem): clause_pressure air masses
AIR = (
    ("WARM", "warm", "warm"),
    ("COLD", "cold", "kalt"),
    ("HUMID", "humid", "feucht"),
    ("DRY", "dry", "trocken"),
    ("MILD", "mild", "mild"),
)
# (gloss IDs, en time, de time): clause_intro without a date
INTRO_TIMES = (
    (["TODAY"], "today", "heute"),
    (["TOMORROW"], "tomorrow", "morgen"),
    (["DAY-AFTER-TOMORROW"], "the day after tomorrow", "übermorgen"),
    (["WEEKEND"], "the weekend", "das wochenende"),
    (["NEXT", "DAY"], "the coming days", "die kommenden tage"),
)
