"""Building blocks of the weather-forecast grammar (``grammar``): phrases and helpers.

Numbers, ordinals and temperatures, time and place adverbials, and noun phrases
(modifier + phenomenon, with German adjective declension), each realised as a
:data:`Phrase` (spoken words, gloss IDs); and the small helpers the clause generators
of ``grammar_weather`` and ``grammar_context`` share (drawing, splitting, joining).
"""

from __future__ import annotations

import numpy as np

from nar_slp.data.corpus.grammar_tables import (
    DAY_PARTS,
    DAYS,
    DE_END,
    DE_TENS,
    DE_UNITS,
    DIRECTIONS,
    EN_ORD,
    EN_TENS,
    EN_UNITS,
    LANDSCAPES,
    MAX_NUMBER,
    MOD_DE_ADJ,
    MOD_DE_QUANT,
    MOD_EN_ADJ,
    MOD_EN_QUANT,
    REGIONS,
    TIMES,
    Phenomenon,
)

Phrase = tuple[list[str], list[str]]  # (words, gloss IDs)


def pick(rng: np.random.Generator, seq):
    """One element of ``seq``, drawn uniformly."""
    return seq[int(rng.integers(len(seq)))]


def words_of(text: str) -> list[str]:
    """``text`` split into words."""
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
        entry = pick(rng, TIMES)
        return words_of(pick(rng, entry[li])), list(entry[0])
    day = pick(rng, DAYS)
    if r < 0.78:
        return words_of(("on " if lang == "en" else "am ") + day[li]), [day[0]]
    if r < 0.88:
        part = pick(rng, DAY_PARTS)
        if lang == "en":
            return ["on", day[1], part[1]], [day[0], part[0]]
        prep = ["in", "der"] if part[0] == "NIGHT" else ["am"]
        return prep + [day[2] + part[2]], [day[0], part[0]]
    if r < 0.94:
        if lang == "en":
            return ["in", "the", "night", "to", day[1]], ["NIGHT", day[0]]
        return ["in", "der", "nacht", "zum", day[2]], ["NIGHT", day[0]]
    if lang == "en":
        return words_of(pick(rng, [f"from {day[1]} on", f"starting {day[1]}"])), [
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
        d = pick(rng, DIRECTIONS)
        if en:
            text = pick(
                rng,
                [
                    f"in the {d[1]}",
                    f"in the {d[2]} parts",
                    f"in the {d[1]} of the country",
                    f"in the far {d[1]}",
                ],
            )
        else:
            text = pick(
                rng,
                [
                    f"im {d[3]}",
                    f"in den {d[4]} landesteilen",
                    f"im {d[3]} des landes",
                    f"ganz im {d[3]}",
                ],
            )
        return words_of(text), [d[0]]
    if r < 0.46:
        a, b = rng.choice(len(DIRECTIONS), size=2, replace=False)
        da, db = DIRECTIONS[a], DIRECTIONS[b]
        if rng.random() < 0.5:
            text = f"in the {da[1]} and {db[1]}" if en else f"im {da[3]} und {db[3]}"
            return words_of(text), [da[0], db[0]]
        text = (
            f"from the {da[1]} to the {db[1]}"
            if en
            else f"vom {da[3]} bis in den {db[3]}"
        )
        return words_of(text), [da[0], "UNTIL", db[0]]
    if r < 0.70:
        entry = pick(rng, LANDSCAPES)
        return words_of(pick(rng, entry[1 if en else 2])), list(entry[0])
    if r < 0.74:
        return (
            words_of(
                "from the coast to the alps" if en else "von der küste bis zu den alpen"
            ),
            ["COAST", "UNTIL", "ALPS"],
        )
    reg = pick(rng, REGIONS)
    return words_of(reg[1 if en else 2]), [reg[0]]


# ------------------------------------------------------------------------- phenomena
def de_adjective(stem: str, gender: str, case: str) -> str:
    """Strong (article-less) adjective declension: kräftig + m/acc -> kräftigen."""
    return stem + DE_END[case][gender]


def noun_phrase(
    rng: np.random.Generator, lang: str, phen: Phenomenon, mod: str | None, case: str
) -> tuple[list[str], list[str], str]:
    """Modifier + noun, e.g. "heavy rain" / "kräftigen regen" (case for German).

    Returns (words, gloss IDs: phenomenon then modifier, number "s" | "p")."""
    glosses = list(phen.glosses) + ([mod] if mod else [])
    if lang == "en":
        noun, num = pick(rng, phen.en_nouns)
        if mod is None:
            return words_of(noun), glosses, num
        pre = MOD_EN_QUANT.get((mod, num)) or MOD_EN_ADJ[mod]
        return words_of(pick(rng, pre) + " " + noun), glosses, num
    noun, gender = pick(rng, phen.de_nouns)
    num = "p" if gender == "p" else "s"
    words = words_of(noun)
    # "klar_ himmel": a trailing "_" marks an adjective stem to inflect
    words = [
        de_adjective(w[:-1], gender, case) if w.endswith("_") else w for w in words
    ]
    if mod is None:
        return words, glosses, num
    stem = pick(rng, MOD_DE_QUANT.get((mod, num)) or MOD_DE_ADJ[mod])
    pre = stem[1:] if stem.startswith("=") else de_adjective(stem, gender, case)
    return words_of(pre) + words, glosses, num


def maybe(rng: np.random.Generator, p: float, make) -> Phrase:
    """``make()`` with probability ``p``, else an empty phrase."""
    return make() if rng.random() < p else ([], [])


def join(*parts: list[str]) -> list[str]:
    """The word lists ``parts`` in one list."""
    return [w for part in parts for w in part]


def front(
    rng: np.random.Generator, a: list[str], b: list[str]
) -> tuple[list[str], list[str]]:
    """Randomly swap two adverbials (speech varies time/place order, glosses do not)."""
    return (a, b) if rng.random() < 0.5 else (b, a)
