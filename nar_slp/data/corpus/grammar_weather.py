"""Clauses about the weather itself, for the grammar (``grammar``).

Weather phenomena, temperatures, wind, and changes (temperatures rising, rain moving
east, clearing up), each drawn as a :data:`~nar_slp.data.corpus.grammar_phrases.Phrase`
(spoken words, gloss IDs) from a random template.
"""

from __future__ import annotations

import numpy as np

from nar_slp.data.corpus.grammar_phrases import (
    Phrase,
    de_adjective,
    front,
    join,
    maybe,
    noun_phrase,
    pick,
    place_phrase,
    temperature,
    time_phrase,
    words_of,
)
from nar_slp.data.corpus.grammar_tables import (
    COMPARATIVES,
    DIRECTIONS,
    FREQ,
    MOD_DE_ADV,
    MOD_EN_ADV,
    MOVERS,
    PHENOMENA,
    REMAIN,
    WIND_MODS,
)


def clause_weather(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE PHENOMENON [MODIFIER] [FREQUENCY] [POSSIBLE]."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.8, lambda: time_phrase(rng, lang))
    pw, pg = maybe(rng, 0.9, lambda: place_phrase(rng, lang))
    phen = pick(rng, PHENOMENA)
    mod = pick(rng, phen.mods) if phen.mods and rng.random() < 0.75 else None
    fw, fg = [], []
    if rng.random() < 0.15:
        f = pick(rng, FREQ)
        fw, fg = words_of(pick(rng, f[1] if en else f[2])), [f[0]]
    style = rng.random()
    adj_ok = bool(phen.en_adj) and (mod is None or mod in ("STRONG",))
    verb_ok = phen.en_verb is not None and (mod is None or mod in MOD_EN_ADV)

    if not phen.en_nouns or (adj_ok and style < 0.25):
        # "in the south it will be mostly sunny tomorrow"
        r = rng.random()
        if r < 0.25:
            deg, extra = ("partly" if en else "teilweise"), ["PARTLY"]
        elif r < 0.45:
            deg = "mostly" if en else pick(rng, ["meist", "überwiegend"])
            extra = ["MOSTLY"]
        elif r < 0.6 and mod == "STRONG":
            deg, extra = ("very" if en else "sehr"), ["STRONG"]
        else:
            deg, extra = "", []
        adj = pick(rng, phen.en_adj if en else phen.de_adj)
        g = tg + pg + list(phen.glosses) + extra + fg
        if en:
            a, b = front(rng, tw, pw)
            return join(a, ["it", "will", "be"], words_of(deg), [adj], b, fw), g
        if tw:
            return join(tw, ["wird", "es"], pw, fw, words_of(deg), [adj]), g
        return join(pw, ["ist", "es"], fw, words_of(deg), [adj]), g

    if verb_ok and style < 0.45:
        # "tomorrow it will rain heavily in the north"
        adv = (
            words_of(pick(rng, (MOD_EN_ADV if en else MOD_DE_ADV)[mod])) if mod else []
        )
        g = tg + pg + list(phen.glosses) + ([mod] if mod else []) + fg
        if en:
            a, b = front(rng, tw, pw)
            return join(a, ["it", "will", phen.en_verb], adv, b, fw), g
        first, rest = (tw, pw) if tw else (pw, [])
        if not first:
            return join(["es"], [phen.de_verb], fw, adv), g
        return join(first, [phen.de_verb, "es"], rest, fw, adv), g

    if phen.glosses == ("SUN",) and style < 0.6:
        # "the sun shines for a few hours in the south"
        extra_w, extra_g = [], []
        if rng.random() < 0.5:
            extra_w = (
                words_of(pick(rng, ["for a few hours", "for a couple of hours"]))
                if en
                else words_of(pick(rng, ["einige stunden", "ein paar stunden"]))
            )
            extra_g = ["FEW", "HOUR"]
        g = tg + pg + ["SUN"] + extra_g + fg
        if en:
            a, b = front(rng, tw, pw)
            return join(a, ["the", "sun", "will", "shine"], extra_w, b, fw), g
        first, rest = (tw, pw) if tw else (pw, [])
        if not first:
            return join(["die", "sonne", "scheint"], fw, extra_w), g
        return join(first, ["scheint"], rest, ["die", "sonne"], fw, extra_w), g

    t = int(rng.integers(4))
    case = "dat" if (not en and t == 1) else ("nom" if t == 3 else "acc")
    nw, ng, num = noun_phrase(rng, lang, phen, mod, case)
    g = tg + pg + ng + fg + (["POSSIBLE"] if t == 3 else [])
    if en:
        be = "is" if num == "s" else "are"
        a, b = front(rng, tw, pw)
        if t == 0:
            return join(a, ["there", "will", "be"], fw, nw, b), g
        if t == 1:
            return join(nw, [be, "expected"], a, b, fw), g
        if t == 2:
            return join(tw, ["we", "expect"], nw, pw, fw), g
        return join(nw, [be, "possible"], a, b, fw), g
    if t == 0:
        if tw:
            return join(tw, ["gibt", "es"], pw, fw, nw), g
        if pw:
            return join(pw, ["gibt", "es"], fw, nw), g
        return join(["es", "gibt"], fw, nw), g
    if t == 1:
        return join(pw or ["es"], ["ist"], tw, fw, ["mit"], nw, ["zu", "rechnen"]), g
    if t == 2:
        return join(tw or ["dann"], ["erwarten", "wir"], pw, fw, nw), g
    verb = "sind" if num == "p" else "ist"
    return join(nw, [verb], tw, pw, fw, ["möglich"]), g


def clause_temperature(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE (TEMPERATURE | MAXIMUM | MINIMUM | COOL) value(s) DEGREE."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.75, lambda: time_phrase(rng, lang))
    pw, pg = maybe(rng, 0.8, lambda: place_phrase(rng, lang))
    kind = int(rng.integers(5))
    vw, vg = temperature(rng, lang, single=kind in (2, 3))
    deg = ["degrees"] if en else ["grad"]
    if en and vg[-1] == "ONE" and vg[-2] != "TWENTY":
        deg = ["degree"]
    head = {0: ["TEMPERATURE"], 1: ["MAXIMUM"], 2: ["MINIMUM"], 3: ["COOL"], 4: []}[
        kind
    ]
    g = tg + pg + head + vg + ["DEGREE"]
    a, b = front(rng, tw, pw)
    if en:
        if kind == 0:
            subj = pick(rng, ["the temperatures", "temperatures"])
            return join(a, words_of(subj), [pick(rng, ["reach", "are"])], vw, deg, b), g
        if kind == 1:
            subj = pick(
                rng, ["the highs", "the maximum temperatures", "the daytime highs"]
            )
            return join(a, words_of(subj), ["reach"], vw, deg, b), g
        if kind == 2:
            subj = pick(
                rng, ["the lows", "the minimum temperatures", "the overnight lows"]
            )
            return join(words_of(subj), ["are"], vw, deg, a, b), g
        if kind == 3:
            return join(a, ["it", "cools", "down", "to"], vw, deg, b), g
        return join(a, ["we", "expect"], vw, deg, b), g
    if kind == 0:
        if tw:
            return join(tw, ["erreichen", "die", "temperaturen"], pw, vw, deg), g
        return join(["die", "temperaturen", "erreichen"], pw, vw, deg), g
    if kind == 1:
        subj = pick(rng, ["die höchstwerte", "die höchsttemperaturen"])
        bei = [] if vw[0] == "zwischen" else ["bei"]
        return join(words_of(subj), ["liegen"], tw, pw, bei, vw, deg), g
    if kind == 2:
        subj = pick(rng, ["die tiefstwerte", "die tiefsttemperaturen"])
        bei = [] if vw[0] == "um" else ["bei"]
        return join(words_of(subj), ["liegen"], tw, pw, bei, vw, deg), g
    if kind == 3:
        first, rest = (tw, pw) if tw else (pw, [])
        return join(
            first or ["nachts"], ["kühlt", "es"], rest, ["auf"], vw, deg, ["ab"]
        ), (g if first else ["NIGHT"] + g)
    first, rest = (pw, tw) if pw else (tw, [])
    return join(first or ["dann"], ["werden"], rest, vw, deg, ["erwartet"]), g


def clause_wind(rng: np.random.Generator, lang: str) -> Phrase:
    """TIME PLACE WIND [DIRECTION] STRENGTH [GUST STRONG|SEVERE]."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.65, lambda: time_phrase(rng, lang))
    pw, pg = maybe(rng, 0.65, lambda: place_phrase(rng, lang))
    d = pick(rng, DIRECTIONS)
    m = pick(rng, WIND_MODS)
    gw, gg = [], []
    if rng.random() < 0.35:
        gm = pick(rng, ["STRONG", "SEVERE"])
        if en:
            gw = ["with", {"STRONG": "strong", "SEVERE": "severe"}[gm], "gusts"]
        else:
            gw = ["mit", {"STRONG": "starken", "SEVERE": "schweren"}[gm], "böen"]
        gg = ["GUST", gm]
    g = tg + pg + ["WIND", d[0], m[0]] + gg
    if en:
        a, b = front(rng, tw, pw)
        frm = pick(rng, [["from", "the", d[1]], ["from", d[1] + "erly", "directions"]])
        if d[0] in ("NORTHEAST", "NORTHWEST", "SOUTHEAST", "SOUTHWEST"):
            frm = ["from", "the", d[1]]
        art = "an" if m[1][0] in "aeiou" else "a"
        return join(a, [art, m[1], "wind", "blows"], frm, b, gw), g
    frm = pick(rng, [["aus", d[5]], ["aus", d[4], "richtungen"]])
    if rng.random() < 0.5:
        first, rest = (tw, pw) if tw else (pw, [])
        return join(
            first or ["heute"],
            ["weht"],
            rest,
            ["ein", de_adjective(m[2], "m", "nom"), "wind"],
            frm,
            gw,
        ), (g if first else ["TODAY"] + g)
    return join(["der", "wind", "weht"], tw, pw, [m[2]], frm, gw), g


def clause_trend(rng: np.random.Generator, lang: str) -> Phrase:
    """Changes: temperatures rising, "it gets warmer", rain moving east, clearing up."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.75, lambda: time_phrase(rng, lang))
    pw, pg = maybe(rng, 0.65, lambda: place_phrase(rng, lang))
    first, rest = (tw, pw) if tw else (pw, [])
    k = int(rng.integers(7))
    if k == 0:  # temperatures rise / fall
        up = rng.random() < 0.5
        amt = int(rng.integers(3))
        ag = [[], ["LITTLE"], ["STRONG"]][amt]
        g = tg + pg + ["TEMPERATURE", "RISE" if up else "FALL"] + ag
        if en:
            verb = pick(
                rng, ["rise", "climb", "go up"] if up else ["fall", "drop", "go down"]
            )
            aw = words_of(
                ["", pick(rng, ["slightly", "a little"]), "significantly"][amt]
            )
            a, b = front(rng, tw, pw)
            return join(a, ["the", "temperatures"], words_of(verb), aw, b), g
        verb = pick(rng, ["steigen"] if up else ["sinken", "fallen"])
        aw = words_of(["", pick(rng, ["leicht", "etwas"]), "deutlich"][amt])
        if first:
            return join(first, [verb, "die", "temperaturen"], rest, aw), g
        return join(["die", "temperaturen", verb], aw), g
    if k == 1:  # it gets warmer
        c = pick(rng, COMPARATIVES)
        g = tg + pg + [c[0], "MORE"]
        if en:
            a, b = front(rng, tw, pw)
            verb = pick(rng, [["it", "will", "be"], ["it", "gets"], ["it", "becomes"]])
            return join(a, verb, words_of(c[1]), b), g
        if first:
            return join(first, ["wird", "es"], rest, [c[2]]), g
        return join(["es", "wird"], [c[2]]), g
    if k == 2:  # the weather remains changeable
        r = pick(rng, REMAIN)
        g = tg + ["WEATHER", r[0], "STAY"]
        if en:
            return join(
                ["the", "weather", pick(rng, ["remains", "stays"])],
                [pick(rng, r[1])],
                tw,
            ), g
        return join(["das", "wetter", "bleibt"], tw, [pick(rng, r[2])]), g
    if k == 3:  # the rain moves from the west to the east
        m = pick(rng, MOVERS)
        a, b = rng.choice(len(DIRECTIONS), size=2, replace=False)
        da, db = DIRECTIONS[a], DIRECTIONS[b]
        spread = rng.random() < 0.4
        g = tg + [m[0], da[0], "SPREAD" if spread else "MOVE", db[0]]
        if en:
            verb = ("spread" if spread else "move") + (
                "" if m[1].endswith("s") else "s"
            )
            return join(
                tw, words_of(m[1]), [verb, "from", "the", da[1], "to", "the", db[1]]
            ), g
        if spread:
            verb = "breiten" if m[3] else "breitet"
            core = [verb, "sich"] if tw else []
            tail = ["vom", da[3], "bis", "in", "den", db[3], "aus"]
            if tw:
                return join(tw, core, words_of(m[2]), tail), g
            return join(words_of(m[2]), [verb, "sich"], tail), g
        verb = "ziehen" if m[3] else "zieht"
        tail = ["vom", da[3], "in", "den", db[3]]
        if tw:
            return join(tw, [verb], words_of(m[2]), tail), g
        return join(words_of(m[2]), [verb], tail), g
    if k == 4:  # it clears up
        g = tg + pg + ["CLEAR-UP"]
        if en:
            a, b = front(rng, tw, pw)
            verb = pick(
                rng,
                [
                    ["it", "clears", "up"],
                    ["the", "sky", "clears"],
                    ["the", "clouds", "break", "up"],
                ],
            )
            return join(a, verb, b), g
        verb = pick(rng, ["lockert", "klart"])
        if first:
            return join(first, [verb, "es"], rest, ["auf"]), g
        return join(["es", verb, "auf"]), g
    if k == 5:  # the rain stops / eases; the fog dissolves
        m = pick(rng, MOVERS)
        fog = m[0] == "FOG"
        kind = "DISSOLVE" if fog else pick(rng, ["END", "DECREASE"])
        g = tg + pg + [m[0], kind]
        if en:
            a, b = front(rng, tw, pw)
            s = m[1].endswith("s")
            verb = {
                "DISSOLVE": "clear" if s else "clears",
                "END": "stop" if s else "stops",
                "DECREASE": "ease" if s else "eases",
            }[kind]
            if fog:
                verb = pick(rng, ["clears", "lifts"])
            return join(a, words_of(m[1]), [verb], b), g
        pl = m[3]
        verb, part = {
            "DISSOLVE": ("löst", "auf"),
            "END": ("hören" if pl else "hört", "auf"),
            "DECREASE": ("lassen" if pl else "lässt", "nach"),
        }[kind]
        refl = ["sich"] if fog else []
        if first:
            return join(first, [verb], rest, words_of(m[2]), refl, [part]), g
        return join(words_of(m[2]), [verb], refl, [part]), g
    # thunderstorms arrive in the south
    m = pick(rng, MOVERS[:6])
    g = tg + pg + [m[0], "COME"]
    if en:
        a, b = front(rng, tw, pw)
        s = m[1].endswith("s")
        verb = (
            ("arrive" if s else "arrives")
            if rng.random() < 0.5
            else ("come" if s else "comes")
        )
        return join(a, words_of(m[1]), [verb], b), g
    verb = "kommen" if m[3] else "kommt"
    if first:
        return join(first, [verb], rest, words_of(m[2]), ["auf"]), g
    return join(words_of(m[2]), [verb, "auf"]), g
