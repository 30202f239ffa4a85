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
``grammar_tables``; the phrase builders (numbers, time, place, noun phrases) in
``grammar_phrases``; the clause generators in ``grammar_weather`` (weather,
temperature, wind, trends) and ``grammar_context`` (pressure, warnings, season,
openings and closings). This module draws whole sentences from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_slp.data.corpus.grammar_context import (
    clause_closing,
    clause_intro,
    clause_pressure,
    clause_season,
    clause_warning,
)
from nar_slp.data.corpus.grammar_phrases import number_gloss, pick
from nar_slp.data.corpus.grammar_tables import (
    AIR,
    COMPARATIVES,
    DAY_PARTS,
    DAYS,
    DIRECTIONS,
    FOREIGN,
    FREQ,
    LANDSCAPES,
    MAX_NUMBER,
    MONTHS,
    MOVERS,
    PHENOMENA,
    REGIONS,
    REMAIN,
    TIMES,
    WIND_MODS,
)
from nar_slp.data.corpus.grammar_weather import (
    clause_temperature,
    clause_trend,
    clause_weather,
    clause_wind,
)

LANGUAGES = ("en", "de")


@dataclass(frozen=True)
class Sentence:
    """One spoken sentence and its gloss IDs (language-independent)."""

    words: tuple[str, ...]
    glosses: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


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
                        conj = pick(rng, ["and", "while"] if lang == "en" else ["und"])
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
