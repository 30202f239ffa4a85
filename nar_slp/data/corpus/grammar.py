"""A weather-forecast grammar: spoken sentences and their gloss sequences.

Every sentence is drawn as a small semantic frame (time, place, phenomenon, modifier,
values...) and realised twice: as spoken text in English ("en") or German ("de"), with
a randomly chosen template and synonyms, and as a gloss sequence that does not depend
on those surface choices. The gloss side follows DGS-like conventions of PHOENIX-2014T:

- function words (articles, prepositions, auxiliaries, "there will be"...) get no gloss;
- time, then place, then the event ("in the north it will rain tomorrow" ->
  ``TOMORROW NORTH RAIN``), intensities after the phenomenon (``RAIN STRONG``);
- synonyms share a gloss ("heavy", "strong", "intense" -> ``STRONG``);
- numbers become number glosses (``MINUS FIVE UNTIL TWENTY-ONE DEGREE``), ordinals too.

Glosses are produced as language-independent IDs (the English gloss names of
``lexicon.CONCEPTS``); ``lexicon.gloss_name`` renders them in the corpus language.
Text is lowercase words separated by single spaces, without punctuation (like PHOENIX).
The word lists, synonyms and phrase variants the generators draw from live in
``grammar_tables``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_slp.data.corpus.grammar_tables import (
    AIR,
    COMPARATIVES,
    DAY_PARTS,
    DAYS,
    DE_END,
    DE_TENS,
    DE_UNITS,
    DIRECTIONS,
    EN_ORD,
    EN_TENS,
    EN_UNITS,
    FOREIGN,
    FREQ,
    INTRO_TIMES,
    LANDSCAPES,
    MAX_NUMBER,
    MOD_DE_ADJ,
    MOD_DE_ADV,
    MOD_DE_QUANT,
    MOD_EN_ADJ,
    MOD_EN_ADV,
    MOD_EN_QUANT,
    MONTHS,
    MOVERS,
    NOUN_PHENOMENA,
    PHENOMENA,
    REGIONS,
    REMAIN,
    TIMES,
    WIND_MODS,
    Phenomenon,
)

LANGUAGES = ("en", "de")
Phrase = tuple[list[str], list[str]]  # (words, gloss IDs)


@dataclass(frozen=True)
class Sentence:
    """One spoken sentence and its gloss IDs (language-independent)."""

    words: tuple[str, ...]
    glosses: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _w(text: str) -> list[str]:
    return text.split()


# ----------------------------------------------------------------------------- numbers
def number_gloss(n: int) -> str:
    """Gloss ID of 0 <= n <= 35: ``TWELVE``, ``TWENTY-ONE``..."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number {n} outside 0..{MAX_NUMBER}")
    if n < 20:
        return EN_UNITS[n].upper()
    tens, unit = divmod(n, 10)
    name = EN_TENS[tens * 10].upper()
    return name if unit == 0 else f"{name}-{EN_UNITS[unit].upper()}"


def number_words(n: int, lang: str) -> list[str]:
    if n < 20:
        return [(EN_UNITS if lang == "en" else DE_UNITS)[n]]
    tens, unit = divmod(n, 10)
    if lang == "en":
        return [EN_TENS[tens * 10]] + ([EN_UNITS[unit]] if unit else [])
    if unit == 0:
        return [DE_TENS[tens * 10]]
    return [("ein" if unit == 1 else DE_UNITS[unit]) + "und" + DE_TENS[tens * 10]]


def ordinal_words(n: int, lang: str) -> list[str]:
    """Day of month 1..31 as an ordinal ("twenty first" / "einundzwanzigsten")."""
    if lang == "en":
        if n < 20:
            return [EN_ORD[n - 1]]
        tens, unit = divmod(n, 10)
        if unit == 0:
            return [EN_TENS[tens * 10][:-1] + "ieth"]
        return [EN_TENS[tens * 10], EN_ORD[unit - 1]]
    irregular = {1: "ersten", 3: "dritten", 7: "siebten", 8: "achten"}
    if n in irregular:
        return [irregular[n]]
    word = number_words(n, "de")[0]
    return [word + ("sten" if n >= 20 else "ten")]


def temperature(rng: np.random.Generator, lang: str, single: bool) -> Phrase:
    """A value or a range, e.g. "minus three to two" -> MINUS THREE UNTIL TWO."""

    def value(n: int) -> Phrase:
        words = number_words(abs(n), lang)
        if lang == "de" and abs(n) == 1:
            words = ["ein"]
        glosses = [number_gloss(abs(n))]
        if n < 0:
            return ["minus"] + words, ["MINUS"] + glosses
        return words, glosses

    lo = int(rng.integers(-12, 31))
    if lo in (-1, 1):
        lo = 0
    if single:
        w, g = value(lo)
        if rng.random() < 0.4:
            return (["around"] if lang == "en" else ["um"]) + w, ["AROUND"] + g
        return w, g
    hi = min(lo + int(rng.integers(3, 9)), MAX_NUMBER)
    (wa, ga), (wb, gb) = value(lo), value(hi)
    if rng.random() < 0.5:
        words = wa + (["to"] if lang == "en" else ["bis"]) + wb
    else:
        words = (
            ["between"] + wa + ["and"] + wb
            if lang == "en"
            else ["zwischen"] + wa + ["und"] + wb
        )
    return words, ga + ["UNTIL"] + gb


# ------------------------------------------------------------------------ time phrases
def time_phrase(rng: np.random.Generator, lang: str) -> Phrase:
    """A time adverbial: "tomorrow", "on monday evening", "in the night to sunday"..."""
    r = rng.random()
    li = 1 if lang == "en" else 2
    if r < 0.62:
        entry = _pick(rng, TIMES)
        return _w(_pick(rng, entry[li])), list(entry[0])
    day = _pick(rng, DAYS)
    if r < 0.78:
        return _w(("on " if lang == "en" else "am ") + day[li]), [day[0]]
    if r < 0.88:
        part = _pick(rng, DAY_PARTS)
        if lang == "en":
            return ["on", day[1], part[1]], [day[0], part[0]]
        prep = ["in", "der"] if part[0] == "NIGHT" else ["am"]
        return prep + [day[2] + part[2]], [day[0], part[0]]
    if r < 0.94:
        if lang == "en":
            return ["in", "the", "night", "to", day[1]], ["NIGHT", day[0]]
        return ["in", "der", "nacht", "zum", day[2]], ["NIGHT", day[0]]
    if lang == "en":
        return _w(_pick(rng, [f"from {day[1]} on", f"starting {day[1]}"])), [
            "FROM",
            day[0],
        ]
    return ["ab", day[2]], ["FROM", day[0]]


# ----------------------------------------------------------------------- place phrases
def place_phrase(rng: np.random.Generator, lang: str) -> Phrase:
    """A place adverbial: "in the north", "from the coast to the alps", "in bavaria"."""
    en = lang == "en"
    r = rng.random()
    if r < 0.38:
        d = _pick(rng, DIRECTIONS)
        if en:
            text = _pick(
                rng,
                [
                    f"in the {d[1]}",
                    f"in the {d[2]} parts",
                    f"in the {d[1]} of the country",
                    f"in the far {d[1]}",
                ],
            )
        else:
            text = _pick(
                rng,
                [
                    f"im {d[3]}",
                    f"in den {d[4]} landesteilen",
                    f"im {d[3]} des landes",
                    f"ganz im {d[3]}",
                ],
            )
        return _w(text), [d[0]]
    if r < 0.46:
        a, b = rng.choice(len(DIRECTIONS), size=2, replace=False)
        da, db = DIRECTIONS[a], DIRECTIONS[b]
        if rng.random() < 0.5:
            text = f"in the {da[1]} and {db[1]}" if en else f"im {da[3]} und {db[3]}"
            return _w(text), [da[0], db[0]]
        text = (
            f"from the {da[1]} to the {db[1]}"
            if en
            else f"vom {da[3]} bis in den {db[3]}"
        )
        return _w(text), [da[0], "UNTIL", db[0]]
    if r < 0.70:
        entry = _pick(rng, LANDSCAPES)
        return _w(_pick(rng, entry[1 if en else 2])), list(entry[0])
    if r < 0.74:
        return (
            _w(
                "from the coast to the alps" if en else "von der küste bis zu den alpen"
            ),
            ["COAST", "UNTIL", "ALPS"],
        )
    reg = _pick(rng, REGIONS)
    return _w(reg[1 if en else 2]), [reg[0]]


# ------------------------------------------------------------------------- phenomena
def _de_adj(stem: str, gender: str, case: str) -> str:
    """Strong (article-less) adjective declension: kräftig + m/acc -> kräftigen."""
    return stem + DE_END[case][gender]


def noun_phrase(
    rng: np.random.Generator, lang: str, phen: Phenomenon, mod: str | None, case: str
) -> tuple[list[str], list[str], str]:
    """Modifier + noun, e.g. "heavy rain" / "kräftigen regen" (case for German).

    Returns (words, gloss IDs: phenomenon then modifier, number "s" | "p")."""
    glosses = list(phen.glosses) + ([mod] if mod else [])
    if lang == "en":
        noun, num = _pick(rng, phen.en_nouns)
        if mod is None:
            return _w(noun), glosses, num
        pre = MOD_EN_QUANT.get((mod, num)) or MOD_EN_ADJ[mod]
        return _w(_pick(rng, pre) + " " + noun), glosses, num
    noun, gender = _pick(rng, phen.de_nouns)
    num = "p" if gender == "p" else "s"
    words = _w(noun)
    # "klar_ himmel": a trailing "_" marks an adjective stem to inflect
    words = [_de_adj(w[:-1], gender, case) if w.endswith("_") else w for w in words]
    if mod is None:
        return words, glosses, num
    stem = _pick(rng, MOD_DE_QUANT.get((mod, num)) or MOD_DE_ADJ[mod])
    pre = stem[1:] if stem.startswith("=") else _de_adj(stem, gender, case)
    return _w(pre) + words, glosses, num


def _maybe(rng: np.random.Generator, p: float, make) -> Phrase:
    return make() if rng.random() < p else ([], [])


def _join(*parts: list[str]) -> list[str]:
    return [w for part in parts for w in part]


def _front(
    rng: np.random.Generator, a: list[str], b: list[str]
) -> tuple[list[str], list[str]]:
    """Randomly swap two adverbials (speech varies time/place order, glosses do not)."""
    return (a, b) if rng.random() < 0.5 else (b, a)


# --------------------------------------------------------------------------- clauses
def clause_weather(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE PHENOMENON [MODIFIER] [FREQUENCY] [POSSIBLE]."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.8, lambda: time_phrase(rng, lang))
    pw, pg = _maybe(rng, 0.9, lambda: place_phrase(rng, lang))
    phen = _pick(rng, PHENOMENA)
    mod = _pick(rng, phen.mods) if phen.mods and rng.random() < 0.75 else None
    fw, fg = [], []
    if rng.random() < 0.15:
        f = _pick(rng, FREQ)
        fw, fg = _w(_pick(rng, f[1] if en else f[2])), [f[0]]
    style = rng.random()
    adj_ok = bool(phen.en_adj) and (mod is None or mod in ("STRONG",))
    verb_ok = phen.en_verb is not None and (mod is None or mod in MOD_EN_ADV)

    if not phen.en_nouns or (adj_ok and style < 0.25):
        # "in the south it will be mostly sunny tomorrow"
        r = rng.random()
        if r < 0.25:
            deg, extra = ("partly" if en else "teilweise"), ["PARTLY"]
        elif r < 0.45:
            deg = "mostly" if en else _pick(rng, ["meist", "überwiegend"])
            extra = ["MOSTLY"]
        elif r < 0.6 and mod == "STRONG":
            deg, extra = ("very" if en else "sehr"), ["STRONG"]
        else:
            deg, extra = "", []
        adj = _pick(rng, phen.en_adj if en else phen.de_adj)
        g = tg + pg + list(phen.glosses) + extra + fg
        if en:
            a, b = _front(rng, tw, pw)
            return _join(a, ["it", "will", "be"], _w(deg), [adj], b, fw), g
        if tw:
            return _join(tw, ["wird", "es"], pw, fw, _w(deg), [adj]), g
        return _join(pw, ["ist", "es"], fw, _w(deg), [adj]), g

    if verb_ok and style < 0.45:
        # "tomorrow it will rain heavily in the north"
        adv = _w(_pick(rng, (MOD_EN_ADV if en else MOD_DE_ADV)[mod])) if mod else []
        g = tg + pg + list(phen.glosses) + ([mod] if mod else []) + fg
        if en:
            a, b = _front(rng, tw, pw)
            return _join(a, ["it", "will", phen.en_verb], adv, b, fw), g
        first, rest = (tw, pw) if tw else (pw, [])
        if not first:
            return _join(["es"], [phen.de_verb], fw, adv), g
        return _join(first, [phen.de_verb, "es"], rest, fw, adv), g

    if phen.glosses == ("SUN",) and style < 0.6:
        # "the sun shines for a few hours in the south"
        extra_w, extra_g = [], []
        if rng.random() < 0.5:
            extra_w = (
                _w(_pick(rng, ["for a few hours", "for a couple of hours"]))
                if en
                else _w(_pick(rng, ["einige stunden", "ein paar stunden"]))
            )
            extra_g = ["FEW", "HOUR"]
        g = tg + pg + ["SUN"] + extra_g + fg
        if en:
            a, b = _front(rng, tw, pw)
            return _join(a, ["the", "sun", "will", "shine"], extra_w, b, fw), g
        first, rest = (tw, pw) if tw else (pw, [])
        if not first:
            return _join(["die", "sonne", "scheint"], fw, extra_w), g
        return _join(first, ["scheint"], rest, ["die", "sonne"], fw, extra_w), g

    t = int(rng.integers(4))
    case = "dat" if (not en and t == 1) else ("nom" if t == 3 else "acc")
    nw, ng, num = noun_phrase(rng, lang, phen, mod, case)
    g = tg + pg + ng + fg + (["POSSIBLE"] if t == 3 else [])
    if en:
        be = "is" if num == "s" else "are"
        a, b = _front(rng, tw, pw)
        if t == 0:
            return _join(a, ["there", "will", "be"], fw, nw, b), g
        if t == 1:
            return _join(nw, [be, "expected"], a, b, fw), g
        if t == 2:
            return _join(tw, ["we", "expect"], nw, pw, fw), g
        return _join(nw, [be, "possible"], a, b, fw), g
    if t == 0:
        if tw:
            return _join(tw, ["gibt", "es"], pw, fw, nw), g
        if pw:
            return _join(pw, ["gibt", "es"], fw, nw), g
        return _join(["es", "gibt"], fw, nw), g
    if t == 1:
        return _join(pw or ["es"], ["ist"], tw, fw, ["mit"], nw, ["zu", "rechnen"]), g
    if t == 2:
        return _join(tw or ["dann"], ["erwarten", "wir"], pw, fw, nw), g
    verb = "sind" if num == "p" else "ist"
    return _join(nw, [verb], tw, pw, fw, ["möglich"]), g


def clause_temperature(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE (TEMPERATURE | MAXIMUM | MINIMUM | COOL) value(s) DEGREE."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.75, lambda: time_phrase(rng, lang))
    pw, pg = _maybe(rng, 0.8, lambda: place_phrase(rng, lang))
    kind = int(rng.integers(5))
    vw, vg = temperature(rng, lang, single=kind in (2, 3))
    deg = ["degrees"] if en else ["grad"]
    if en and vg[-1] == "ONE" and vg[-2] != "TWENTY":
        deg = ["degree"]
    head = {0: ["TEMPERATURE"], 1: ["MAXIMUM"], 2: ["MINIMUM"], 3: ["COOL"], 4: []}[
        kind
    ]
    g = tg + pg + head + vg + ["DEGREE"]
    a, b = _front(rng, tw, pw)
    if en:
        if kind == 0:
            subj = _pick(rng, ["the temperatures", "temperatures"])
            return _join(a, _w(subj), [_pick(rng, ["reach", "are"])], vw, deg, b), g
        if kind == 1:
            subj = _pick(
                rng, ["the highs", "the maximum temperatures", "the daytime highs"]
            )
            return _join(a, _w(subj), ["reach"], vw, deg, b), g
        if kind == 2:
            subj = _pick(
                rng, ["the lows", "the minimum temperatures", "the overnight lows"]
            )
            return _join(_w(subj), ["are"], vw, deg, a, b), g
        if kind == 3:
            return _join(a, ["it", "cools", "down", "to"], vw, deg, b), g
        return _join(a, ["we", "expect"], vw, deg, b), g
    if kind == 0:
        if tw:
            return _join(tw, ["erreichen", "die", "temperaturen"], pw, vw, deg), g
        return _join(["die", "temperaturen", "erreichen"], pw, vw, deg), g
    if kind == 1:
        subj = _pick(rng, ["die höchstwerte", "die höchsttemperaturen"])
        bei = [] if vw[0] == "zwischen" else ["bei"]
        return _join(_w(subj), ["liegen"], tw, pw, bei, vw, deg), g
    if kind == 2:
        subj = _pick(rng, ["die tiefstwerte", "die tiefsttemperaturen"])
        bei = [] if vw[0] == "um" else ["bei"]
        return _join(_w(subj), ["liegen"], tw, pw, bei, vw, deg), g
    if kind == 3:
        first, rest = (tw, pw) if tw else (pw, [])
        return _join(
            first or ["nachts"], ["kühlt", "es"], rest, ["auf"], vw, deg, ["ab"]
        ), (g if first else ["NIGHT"] + g)
    first, rest = (pw, tw) if pw else (tw, [])
    return _join(first or ["dann"], ["werden"], rest, vw, deg, ["erwartet"]), g


def clause_wind(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE WIND [DIRECTION] STRENGTH [GUST STRONG|SEVERE]."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.65, lambda: time_phrase(rng, lang))
    pw, pg = _maybe(rng, 0.65, lambda: place_phrase(rng, lang))
    d = _pick(rng, DIRECTIONS)
    m = _pick(rng, WIND_MODS)
    gw, gg = [], []
    if rng.random() < 0.35:
        gm = _pick(rng, ["STRONG", "SEVERE"])
        if en:
            gw = ["with", {"STRONG": "strong", "SEVERE": "severe"}[gm], "gusts"]
        else:
            gw = ["mit", {"STRONG": "starken", "SEVERE": "schweren"}[gm], "böen"]
        gg = ["GUST", gm]
    g = tg + pg + ["WIND", d[0], m[0]] + gg
    if en:
        a, b = _front(rng, tw, pw)
        frm = _pick(rng, [["from", "the", d[1]], ["from", d[1] + "erly", "directions"]])
        if d[0] in ("NORTHEAST", "NORTHWEST", "SOUTHEAST", "SOUTHWEST"):
            frm = ["from", "the", d[1]]
        art = "an" if m[1][0] in "aeiou" else "a"
        return _join(a, [art, m[1], "wind", "blows"], frm, b, gw), g
    frm = _pick(rng, [["aus", d[5]], ["aus", d[4], "richtungen"]])
    if rng.random() < 0.5:
        first, rest = (tw, pw) if tw else (pw, [])
        return _join(
            first or ["heute"],
            ["weht"],
            rest,
            ["ein", _de_adj(m[2], "m", "nom"), "wind"],
            frm,
            gw,
        ), (g if first else ["TODAY"] + g)
    return _join(["der", "wind", "weht"], tw, pw, [m[2]], frm, gw), g


def clause_trend(rng: np.random.Generator, lang: str) -> Phrase:
    """Changes: temperatures rising, "it gets warmer", rain moving east, clearing up."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.75, lambda: time_phrase(rng, lang))
    pw, pg = _maybe(rng, 0.65, lambda: place_phrase(rng, lang))
    first, rest = (tw, pw) if tw else (pw, [])
    k = int(rng.integers(7))
    if k == 0:  # temperatures rise / fall
        up = rng.random() < 0.5
        amt = int(rng.integers(3))
        ag = [[], ["LITTLE"], ["STRONG"]][amt]
        g = tg + pg + ["TEMPERATURE", "RISE" if up else "FALL"] + ag
        if en:
            verb = _pick(
                rng, ["rise", "climb", "go up"] if up else ["fall", "drop", "go down"]
            )
            aw = _w(["", _pick(rng, ["slightly", "a little"]), "significantly"][amt])
            a, b = _front(rng, tw, pw)
            return _join(a, ["the", "temperatures"], _w(verb), aw, b), g
        verb = _pick(rng, ["steigen"] if up else ["sinken", "fallen"])
        aw = _w(["", _pick(rng, ["leicht", "etwas"]), "deutlich"][amt])
        if first:
            return _join(first, [verb, "die", "temperaturen"], rest, aw), g
        return _join(["die", "temperaturen", verb], aw), g
    if k == 1:  # it gets warmer
        c = _pick(rng, COMPARATIVES)
        g = tg + pg + [c[0], "MORE"]
        if en:
            a, b = _front(rng, tw, pw)
            verb = _pick(rng, [["it", "will", "be"], ["it", "gets"], ["it", "becomes"]])
            return _join(a, verb, _w(c[1]), b), g
        if first:
            return _join(first, ["wird", "es"], rest, [c[2]]), g
        return _join(["es", "wird"], [c[2]]), g
    if k == 2:  # the weather remains changeable
        r = _pick(rng, REMAIN)
        g = tg + ["WEATHER", r[0], "STAY"]
        if en:
            return _join(
                ["the", "weather", _pick(rng, ["remains", "stays"])],
                [_pick(rng, r[1])],
                tw,
            ), g
        return _join(["das", "wetter", "bleibt"], tw, [_pick(rng, r[2])]), g
    if k == 3:  # the rain moves from the west to the east
        m = _pick(rng, MOVERS)
        a, b = rng.choice(len(DIRECTIONS), size=2, replace=False)
        da, db = DIRECTIONS[a], DIRECTIONS[b]
        spread = rng.random() < 0.4
        g = tg + [m[0], da[0], "SPREAD" if spread else "MOVE", db[0]]
        if en:
            verb = ("spread" if spread else "move") + (
                "" if m[1].endswith("s") else "s"
            )
            return _join(
                tw, _w(m[1]), [verb, "from", "the", da[1], "to", "the", db[1]]
            ), g
        if spread:
            verb = "breiten" if m[3] else "breitet"
            core = [verb, "sich"] if tw else []
            tail = ["vom", da[3], "bis", "in", "den", db[3], "aus"]
            if tw:
                return _join(tw, core, _w(m[2]), tail), g
            return _join(_w(m[2]), [verb, "sich"], tail), g
        verb = "ziehen" if m[3] else "zieht"
        tail = ["vom", da[3], "in", "den", db[3]]
        if tw:
            return _join(tw, [verb], _w(m[2]), tail), g
        return _join(_w(m[2]), [verb], tail), g
    if k == 4:  # it clears up
        g = tg + pg + ["CLEAR-UP"]
        if en:
            a, b = _front(rng, tw, pw)
            verb = _pick(
                rng,
                [
                    ["it", "clears", "up"],
                    ["the", "sky", "clears"],
                    ["the", "clouds", "break", "up"],
                ],
            )
            return _join(a, verb, b), g
        verb = _pick(rng, ["lockert", "klart"])
        if first:
            return _join(first, [verb, "es"], rest, ["auf"]), g
        return _join(["es", verb, "auf"]), g
    if k == 5:  # the rain stops / eases; the fog dissolves
        m = _pick(rng, MOVERS)
        fog = m[0] == "FOG"
        kind = "DISSOLVE" if fog else _pick(rng, ["END", "DECREASE"])
        g = tg + pg + [m[0], kind]
        if en:
            a, b = _front(rng, tw, pw)
            s = m[1].endswith("s")
            verb = {
                "DISSOLVE": "clear" if s else "clears",
                "END": "stop" if s else "stops",
                "DECREASE": "ease" if s else "eases",
            }[kind]
            if fog:
                verb = _pick(rng, ["clears", "lifts"])
            return _join(a, _w(m[1]), [verb], b), g
        pl = m[3]
        verb, part = {
            "DISSOLVE": ("löst", "auf"),
            "END": ("hören" if pl else "hört", "auf"),
            "DECREASE": ("lassen" if pl else "lässt", "nach"),
        }[kind]
        refl = ["sich"] if fog else []
        if first:
            return _join(first, [verb], rest, _w(m[2]), refl, [part]), g
        return _join(_w(m[2]), [verb], refl, [part]), g
    # thunderstorms arrive in the south
    m = _pick(rng, MOVERS[:6])
    g = tg + pg + [m[0], "COME"]
    if en:
        a, b = _front(rng, tw, pw)
        s = m[1].endswith("s")
        verb = (
            ("arrive" if s else "arrives")
            if rng.random() < 0.5
            else ("come" if s else "comes")
        )
        return _join(a, _w(m[1]), [verb], b), g
    verb = "kommen" if m[3] else "kommt"
    if first:
        return _join(first, [verb], rest, _w(m[2]), ["auf"]), g
    return _join(_w(m[2]), [verb, "auf"]), g


def clause_pressure(rng: np.random.Generator, lang: str) -> Phrase:
    """Highs, lows and air masses: ATLANTIC LOW-PRESSURE NORTH RAIN BRING..."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.5, lambda: time_phrase(rng, lang))
    k = int(rng.integers(3))
    f = _pick(rng, FOREIGN)
    if k == 0:
        high = rng.random() < 0.5
        pw, pg = _maybe(rng, 0.6, lambda: place_phrase(rng, lang))
        phen = _pick(
            rng,
            [p for p in NOUN_PHENOMENA if (p.glosses[0] in ("SUN", "CLEAR")) == high],
        )
        mod = _pick(rng, phen.mods) if phen.mods and rng.random() < 0.4 else None
        nw, ng, _ = noun_phrase(rng, lang, phen, mod, "acc")
        g = (
            tg
            + [f[0], "HIGH-PRESSURE" if high else "LOW-PRESSURE"]
            + pg
            + ng
            + ["BRING"]
        )
        if en:
            sys_ = _pick(
                rng,
                ["a high", "an area of high pressure"]
                if high
                else ["a low", "a low pressure area", "an area of low pressure"],
            )
            prep = _pick(rng, ["over", "from"])
            return _join(tw, _w(sys_), [prep], _w(f[1]), ["brings"], nw, pw), g
        sys_ = _pick(
            rng,
            ["ein hoch", "ein hochdruckgebiet"]
            if high
            else ["ein tief", "ein tiefdruckgebiet"],
        )
        if tw:
            return _join(tw, ["bringt"], _w(sys_), ["über"], _w(f[2]), pw, nw), g
        return _join(_w(sys_), ["über"], _w(f[2]), ["bringt"], pw, nw), g
    if k == 1:
        high = rng.random() < 0.6
        g = tg + ["HIGH-PRESSURE" if high else "LOW-PRESSURE", "WEATHER", "DETERMINE"]
        if en:
            sys_ = _pick(
                rng, ["high pressure", "a high"] if high else ["low pressure", "a low"]
            )
            return _join(tw, _w(sys_), ["determines", "our", "weather"]), g
        sys_ = _pick(
            rng, ["hochdruck", "ein hoch"] if high else ["tiefdruck", "ein tief"]
        )
        if tw:
            return _join(tw, ["bestimmt"], _w(sys_), ["unser", "wetter"]), g
        return _join(_w(sys_), ["bestimmt", "unser", "wetter"]), g
    a = _pick(rng, AIR)
    g = tg + [f[0], "AIR", a[0], "COME"]
    if en:
        return _join(
            tw,
            [a[1], "air", "from"],
            _w(f[1]),
            _w(_pick(rng, ["flows to us", "reaches us", "moves in"])),
        ), g
    adj = _de_adj(a[2], "f", "nom")
    verb = _pick(rng, ["strömt", "gelangt"])
    if tw:
        return _join(tw, [verb, adj, "luft", "aus"], _w(f[2]), ["zu", "uns"]), g
    return _join([adj, "luft", "aus"], _w(f[2]), [verb, "zu", "uns"]), g


def clause_warning(rng: np.random.Generator, lang: str) -> Phrase:
    """Warnings and risks: TIME PLACE PHENOMENON [MODIFIER] (WARNING | DANGER)."""
    en = lang == "en"
    tw, tg = _maybe(rng, 0.5, lambda: time_phrase(rng, lang))
    pw, pg = _maybe(rng, 0.7, lambda: place_phrase(rng, lang))
    r = rng.random()
    if r < 0.2:
        nw, ng = (
            (_w(_pick(rng, ["flooding", "high water"])) if en else ["hochwasser"]),
            ["FLOOD"],
        )
    elif r < 0.35:
        nw, ng = (
            (
                _w(_pick(rng, ["slippery roads", "icy roads"]))
                if en
                else ["glätte", "auf", "den", "straßen"]
            ),
            ["STREET", "SLIPPERY"],
        )
    else:
        phen = _pick(
            rng,
            [
                p
                for p in NOUN_PHENOMENA
                if p.glosses[0] not in ("SUN", "CLEAR", "CLOUD")
            ],
        )
        mod = _pick(rng, phen.mods) if phen.mods and rng.random() < 0.5 else None
        nw, ng, _ = noun_phrase(rng, lang, phen, mod, "dat")
    warn = rng.random() < 0.5
    g = tg + pg + ng + ["WARNING" if warn else "DANGER"]
    a, b = _front(rng, tw, pw)
    if en:
        if warn:
            return _join(["the", "weather", "service", "warns", "of"], nw, a, b), g
        return _join(a, ["there", "is", "a", "risk", "of"], nw, b), g
    if warn:
        return _join(["der", "wetterdienst", "warnt"], tw, pw, ["vor"], nw), g
    first, rest = (tw, pw) if tw else (pw, [])
    return _join(first or ["dann"], ["besteht"], rest, ["die", "gefahr", "von"], nw), g


def clause_season(rng: np.random.Generator, lang: str) -> Phrase:
    """Comparisons with the season: (SEASON | MONTH) WARM TOO [STRONG | LITTLE]."""
    en = lang == "en"
    if rng.random() < 0.5:
        ref_g = ["SEASON"]
        ref = _w(
            _pick(rng, ["for the season", "for this time of year"])
            if en
            else _pick(rng, ["für die jahreszeit", "für diese jahreszeit"])
        )
    else:
        mth = _pick(rng, MONTHS)
        ref_g = [mth[0]]
        ref = ["for", mth[1]] if en else ["für", "den", mth[2]]
    if rng.random() < 0.25:
        g = ref_g + ["TEMPERATURE", "NORMAL"]
        if en:
            return _join(["the", "temperatures", "are", "normal"], ref), g
        return _join(["die", "temperaturen", "sind"], ref, ["normal"]), g
    adj = _pick(
        rng,
        (
            ("WARM", "warm", "warm"),
            ("COLD", "cold", "kalt"),
            ("WET", "wet", "nass"),
            ("DRY", "dry", "trocken"),
            ("MILD", "mild", "mild"),
        ),
    )
    amt = int(rng.integers(3))
    g = ref_g + [adj[0], "TOO"] + [[], ["STRONG"], ["LITTLE"]][amt]
    if en:
        aw = _w(["", _pick(rng, ["much", "far"]), "slightly"][amt])
        return _join(ref, ["it", "is"], aw, ["too", adj[1]]), g
    aw = _w(["", _pick(rng, ["viel", "deutlich"]), "etwas"][amt])
    return _join(ref, ["ist", "es"], aw, ["zu", adj[2]]), g


def _date(rng: np.random.Generator, lang: str) -> Phrase:
    day = _pick(rng, DAYS)
    mth = _pick(rng, MONTHS)
    n = int(rng.integers(1, 32))
    li = 1 if lang == "en" else 2
    r = rng.random()
    if r < 0.25:
        tw, tg = (["tomorrow"] if lang == "en" else ["morgen"]), ["TOMORROW"]
    elif r < 0.35:
        tw, tg = (["today"] if lang == "en" else ["heute"]), ["TODAY"]
    else:
        tw, tg = [], []
    if lang == "en":
        core = [day[li], "the"] + ordinal_words(n, "en") + ["of", mth[li]]
    else:
        core = [day[li], "den"] + ordinal_words(n, "de") + [mth[li]]
    return tw + core, tg + [day[0], number_gloss(n), mth[0]]


def clause_intro(rng: np.random.Generator, lang: str) -> Phrase:
    """Openings: NOW WEATHER TOMORROW TUESDAY TWELVE MAY, HELLO VIEWERS..."""
    en = lang == "en"
    r = rng.random()
    if r < 0.7:
        dw, dg = _date(rng, lang)
    else:
        e = _pick(rng, INTRO_TIMES)
        dw, dg = _w(e[1 if en else 2]), list(e[0])
    k = int(rng.integers(3))
    if k == 0:
        g = ["NOW", "WEATHER"] + dg
        head = (
            _pick(rng, ["and now the weather forecast for", "now the weather for"])
            if en
            else _pick(
                rng, ["und nun die wettervorhersage für", "jetzt das wetter für"]
            )
        )
    elif k == 1:
        g = ["HELLO", "VIEWERS", "WEATHER"] + dg
        head = (
            "good evening dear viewers here is the weather for"
            if en
            else "guten abend liebe zuschauer hier ist das wetter für"
        )
    else:
        g = ["HELLO", "WEATHER"] + dg
        head = (
            "hello and welcome to the weather forecast for"
            if en
            else "hallo und willkommen zur wettervorhersage für"
        )
    return _w(head) + dw, g


def clause_closing(rng: np.random.Generator, lang: str) -> Phrase:
    """Closings: EVENING NICE BYE, THANK-YOU BYE..."""
    en = lang == "en"
    if rng.random() < 0.75:
        what = _pick(
            rng,
            (
                ("EVENING", "evening", "abend", "m"),
                ("WEEKEND", "weekend", "wochenende", "n"),
                ("DAY", "day", "tag", "m"),
            ),
        )
        g = [what[0], "NICE", "BYE"]
        if en:
            nice = _pick(rng, ["nice", "pleasant"])
            return ["i", "wish", "you", "a", nice, what[1], "and", "goodbye"], g
        adj = _pick(rng, ["schön", "angenehm"]) + ("en" if what[3] == "m" else "es")
        art = "einen" if what[3] == "m" else "ein"
        words = [
            "ich",
            "wünsche",
            "ihnen",
            art,
            adj,
            what[2],
            "und",
            "auf",
            "wiedersehen",
        ]
        return words, g
    g = ["THANK-YOU", "BYE", "UNTIL", "TOMORROW"]
    if en:
        return _w("thank you for watching and goodbye until tomorrow"), g
    return _w("danke fürs zuschauen und auf wiedersehen bis morgen"), g


_CLAUSES = (
    clause_weather,
    clause_temperature,
    clause_wind,
    clause_trend,
    clause_pressure,
    clause_warning,
    clause_season,
)
_CLAUSE_P = np.array([0.42, 0.17, 0.1, 0.16, 0.07, 0.04, 0.04])


def sample_sentence(rng: np.random.Generator, lang: str = "en") -> Sentence:
    """Draw one sentence: 1-3 clauses joined by "and"/"but", or an opening/closing.

    Lengths are steered toward PHOENIX-2014T: 9-25 words (median ~15) and 3-11
    glosses (median ~8) per sentence; ``BUT`` is the only connective with a gloss.
    """
    if lang not in LANGUAGES:
        raise ValueError(
            f"CorpusConfig.language must be one of {LANGUAGES}, got {lang!r}"
        )
    while True:
        r = rng.random()
        if r < 0.06:
            words, glosses = clause_intro(rng, lang)
        elif r < 0.09:
            words, glosses = clause_closing(rng, lang)
        else:
            target = float(np.clip(rng.normal(16.0, 3.5), 9, 25))
            words, glosses = [], []
            while True:
                f = _CLAUSES[int(rng.choice(len(_CLAUSES), p=_CLAUSE_P))]
                cw, cg = f(rng, lang)
                if words and len(words) + len(cw) > target + 5:
                    break
                if words:
                    if rng.random() < 0.3:
                        words, glosses = (
                            words + [("but" if lang == "en" else "aber")] + cw,
                            glosses + ["BUT"] + cg,
                        )
                    else:
                        conj = _pick(rng, ["and", "while"] if lang == "en" else ["und"])
                        words, glosses = words + [conj] + cw, glosses + cg
                else:
                    words, glosses = cw, cg
                if len(words) >= target - 3 or len(glosses) >= 8:
                    break
        glosses = [g for g in glosses if g]
        if 7 <= len(words) <= 26 and 3 <= len(glosses) <= 13:
            return Sentence(tuple(words), tuple(glosses))


def all_gloss_ids() -> set[str]:
    """Every gloss ID the grammar can produce (for checking the lexicon covers it)."""
    ids = {number_gloss(n) for n in range(MAX_NUMBER + 1)}
    ids |= {d[0] for d in DAYS} | {m[0] for m in MONTHS} | {p[0] for p in DAY_PARTS}
    ids |= {g for t in TIMES for g in t[0]} | {d[0] for d in DIRECTIONS}
    ids |= {g for t in LANDSCAPES for g in t[0]} | {r[0] for r in REGIONS}
    ids |= {f[0] for f in FOREIGN} | {g for p in PHENOMENA for g in p.glosses + p.mods}
    ids |= (
        {f[0] for f in FREQ} | {m[0] for m in WIND_MODS} | {c[0] for c in COMPARATIVES}
    )
    ids |= {r[0] for r in REMAIN} | {m[0] for m in MOVERS} | {a[0] for a in AIR}
    ids |= set(
        "UNTIL MINUS AROUND FROM NIGHT COAST ALPS PARTLY MOSTLY STRONG POSSIBLE "
        "FEW HOUR SUN TEMPERATURE MAXIMUM MINIMUM COOL DEGREE WIND GUST SEVERE "
        "MORE WEATHER STAY SPREAD MOVE CLEAR-UP END DECREASE DISSOLVE COME "
        "HIGH-PRESSURE LOW-PRESSURE BRING DETERMINE AIR FLOOD STREET SLIPPERY "
        "WARNING DANGER SEASON NORMAL TOO LITTLE NOW HELLO VIEWERS NICE BYE "
        "THANK-YOU WEEKEND TODAY TOMORROW BUT RISE FALL".split()
    )
    return ids
