"""Clauses around the weather, for the grammar (``grammar``).

Pressure systems and air masses, warnings, comparisons with the season, and the
presenter's openings and closings, each drawn as a
:data:`~nar_slp.data.corpus.grammar_phrases.Phrase` (spoken words, gloss IDs).
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
    number_gloss,
    ordinal_words,
    pick,
    place_phrase,
    time_phrase,
    words_of,
)
from nar_slp.data.corpus.grammar_tables import (
    AIR,
    DAYS,
    FOREIGN,
    INTRO_TIMES,
    MONTHS,
    NOUN_PHENOMENA,
)


def clause_pressure(rng: np.random.Generator, lang: str) -> Phrase:
    """Highs, lows and air masses: ATLANTIC LOW-PRESSURE NORTH RAIN BRING..."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.5, lambda: time_phrase(rng, lang))
    k = int(rng.integers(3))
    f = pick(rng, FOREIGN)
    if k == 0:
        high = rng.random() < 0.5
        pw, pg = maybe(rng, 0.6, lambda: place_phrase(rng, lang))
        phen = pick(
            rng,
            [p for p in NOUN_PHENOMENA if (p.glosses[0] in ("SUN", "CLEAR")) == high],
        )
        mod = pick(rng, phen.mods) if phen.mods and rng.random() < 0.4 else None
        nw, ng, _ = noun_phrase(rng, lang, phen, mod, "acc")
        g = (
            tg
            + [f[0], "HIGH-PRESSURE" if high else "LOW-PRESSURE"]
            + pg
            + ng
            + ["BRING"]
        )
        if en:
            sys_ = pick(
                rng,
                ["a high", "an area of high pressure"]
                if high
                else ["a low", "a low pressure area", "an area of low pressure"],
            )
            prep = pick(rng, ["over", "from"])
            return join(
                tw, words_of(sys_), [prep], words_of(f[1]), ["brings"], nw, pw
            ), g
        sys_ = pick(
            rng,
            ["ein hoch", "ein hochdruckgebiet"]
            if high
            else ["ein tief", "ein tiefdruckgebiet"],
        )
        if tw:
            return join(
                tw, ["bringt"], words_of(sys_), ["über"], words_of(f[2]), pw, nw
            ), g
        return join(words_of(sys_), ["über"], words_of(f[2]), ["bringt"], pw, nw), g
    if k == 1:
        high = rng.random() < 0.6
        g = tg + ["HIGH-PRESSURE" if high else "LOW-PRESSURE", "WEATHER", "DETERMINE"]
        if en:
            sys_ = pick(
                rng, ["high pressure", "a high"] if high else ["low pressure", "a low"]
            )
            return join(tw, words_of(sys_), ["determines", "our", "weather"]), g
        sys_ = pick(
            rng, ["hochdruck", "ein hoch"] if high else ["tiefdruck", "ein tief"]
        )
        if tw:
            return join(tw, ["bestimmt"], words_of(sys_), ["unser", "wetter"]), g
        return join(words_of(sys_), ["bestimmt", "unser", "wetter"]), g
    a = pick(rng, AIR)
    g = tg + [f[0], "AIR", a[0], "COME"]
    if en:
        return join(
            tw,
            [a[1], "air", "from"],
            words_of(f[1]),
            words_of(pick(rng, ["flows to us", "reaches us", "moves in"])),
        ), g
    adj = de_adjective(a[2], "f", "nom")
    verb = pick(rng, ["strömt", "gelangt"])
    if tw:
        return join(tw, [verb, adj, "luft", "aus"], words_of(f[2]), ["zu", "uns"]), g
    return join([adj, "luft", "aus"], words_of(f[2]), [verb, "zu", "uns"]), g


def clause_warning(rng: np.random.Generator, lang: str) -> Phrase:
    """Warnings and risks: TIME PLACE PHENOMENON [MODIFIER] (WARNING | DANGER)."""
    en = lang == "en"
    tw, tg = maybe(rng, 0.5, lambda: time_phrase(rng, lang))
    pw, pg = maybe(rng, 0.7, lambda: place_phrase(rng, lang))
    r = rng.random()
    if r < 0.2:
        nw, ng = (
            (words_of(pick(rng, ["flooding", "high water"])) if en else ["hochwasser"]),
            ["FLOOD"],
        )
    elif r < 0.35:
        nw, ng = (
            (
                words_of(pick(rng, ["slippery roads", "icy roads"]))
                if en
                else ["glätte", "auf", "den", "straßen"]
            ),
            ["STREET", "SLIPPERY"],
        )
    else:
        phen = pick(
            rng,
            [
                p
                for p in NOUN_PHENOMENA
                if p.glosses[0] not in ("SUN", "CLEAR", "CLOUD")
            ],
        )
        mod = pick(rng, phen.mods) if phen.mods and rng.random() < 0.5 else None
        nw, ng, _ = noun_phrase(rng, lang, phen, mod, "dat")
    warn = rng.random() < 0.5
    g = tg + pg + ng + ["WARNING" if warn else "DANGER"]
    a, b = front(rng, tw, pw)
    if en:
        if warn:
            return join(["the", "weather", "service", "warns", "of"], nw, a, b), g
        return join(a, ["there", "is", "a", "risk", "of"], nw, b), g
    if warn:
        return join(["der", "wetterdienst", "warnt"], tw, pw, ["vor"], nw), g
    first, rest = (tw, pw) if tw else (pw, [])
    return join(first or ["dann"], ["besteht"], rest, ["die", "gefahr", "von"], nw), g


def clause_season(rng: np.random.Generator, lang: str) -> Phrase:
    """Comparisons with the season: (SEASON | MONTH) WARM TOO [STRONG | LITTLE]."""
    en = lang == "en"
    if rng.random() < 0.5:
        ref_g = ["SEASON"]
        ref = words_of(
            pick(rng, ["for the season", "for this time of year"])
            if en
            else pick(rng, ["für die jahreszeit", "für diese jahreszeit"])
        )
    else:
        mth = pick(rng, MONTHS)
        ref_g = [mth[0]]
        ref = ["for", mth[1]] if en else ["für", "den", mth[2]]
    if rng.random() < 0.25:
        g = ref_g + ["TEMPERATURE", "NORMAL"]
        if en:
            return join(["the", "temperatures", "are", "normal"], ref), g
        return join(["die", "temperaturen", "sind"], ref, ["normal"]), g
    adj = pick(
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
        aw = words_of(["", pick(rng, ["much", "far"]), "slightly"][amt])
        return join(ref, ["it", "is"], aw, ["too", adj[1]]), g
    aw = words_of(["", pick(rng, ["viel", "deutlich"]), "etwas"][amt])
    return join(ref, ["ist", "es"], aw, ["zu", adj[2]]), g


def _date(rng: np.random.Generator, lang: str) -> Phrase:
    day = pick(rng, DAYS)
    mth = pick(rng, MONTHS)
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
        e = pick(rng, INTRO_TIMES)
        dw, dg = words_of(e[1 if en else 2]), list(e[0])
    k = int(rng.integers(3))
    if k == 0:
        g = ["NOW", "WEATHER"] + dg
        head = (
            pick(rng, ["and now the weather forecast for", "now the weather for"])
            if en
            else pick(rng, ["und nun die wettervorhersage für", "jetzt das wetter für"])
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
    return words_of(head) + dw, g


def clause_closing(rng: np.random.Generator, lang: str) -> Phrase:
    """Closings: EVENING NICE BYE, THANK-YOU BYE..."""
    en = lang == "en"
    if rng.random() < 0.75:
        what = pick(
            rng,
            (
                ("EVENING", "evening", "abend", "m"),
                ("WEEKEND", "weekend", "wochenende", "n"),
                ("DAY", "day", "tag", "m"),
            ),
        )
        g = [what[0], "NICE", "BYE"]
        if en:
            nice = pick(rng, ["nice", "pleasant"])
            return ["i", "wish", "you", "a", nice, what[1], "and", "goodbye"], g
        adj = pick(rng, ["schön", "angenehm"]) + ("en" if what[3] == "m" else "es")
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
        return words_of("thank you for watching and goodbye until tomorrow"), g
    return words_of("danke fürs zuschauen und auf wiedersehen bis morgen"), g
