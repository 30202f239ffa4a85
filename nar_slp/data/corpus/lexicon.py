"""The sign lexicon: hand shapes, orientations, locations and one sign per gloss.

Each gloss of the weather grammar (``grammar.all_gloss_ids``) gets one sign, drawn from
a random generator seeded by a hash of the gloss name and ``LEXICON_SEED``, so a sign
never depends on the corpus seed, on the language or on which other glosses exist. A
sign has:

- one of ``HANDSHAPES`` (>= 12 finger configurations), sometimes changing to another;
- a palm/finger orientation (``ORIENTATIONS``);
- a location in signing space (``LOCATIONS``), in the canonical body's coordinates;
- a movement: hold, straight, arc, circle, repeated (back and forth) or wiggle;
- one-handed, or two-handed (symmetric, alternating, or dominant hand on a static base);
- a base duration in frames at 25 fps.

Signs are kept distinct: two glosses never share (shape, orientation, location,
movement, direction, hands).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from nar_slp.data.corpus.grammar import all_gloss_ids
from nar_slp.data.corpus.signer import frame_quat

LEXICON_SEED = 2014  # fixed: signs are the same for every corpus seed

# Shape vectors: flexion thumb, index, middle, ring, pinky (0 straight, 1 curled),
# finger spread, thumb abduction (see signer.hand_local).
HANDSHAPES: dict[str, tuple[float, ...]] = {
    "B": (0.15, 0.0, 0.0, 0.0, 0.0, 0.1, 0.15),  # flat hand, fingers together
    "5": (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0),  # spread hand
    "A": (0.15, 1.0, 1.0, 1.0, 1.0, 0.0, 0.2),  # fist, thumb at the side
    "S": (0.85, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0),  # fist, thumb across the fingers
    "1": (0.8, 0.0, 1.0, 1.0, 1.0, 0.2, 0.1),  # index finger
    "V": (0.8, 0.0, 0.0, 1.0, 1.0, 0.9, 0.1),  # index and middle spread
    "H": (0.8, 0.0, 0.0, 1.0, 1.0, 0.0, 0.1),  # index and middle together
    "W": (0.8, 0.0, 0.0, 0.0, 1.0, 0.8, 0.1),  # three fingers
    "L": (0.0, 0.0, 1.0, 1.0, 1.0, 0.3, 1.0),  # thumb and index
    "Y": (0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0),  # thumb and pinky
    "I": (0.8, 1.0, 1.0, 1.0, 0.0, 0.3, 0.0),  # pinky
    "C": (0.35, 0.45, 0.45, 0.45, 0.45, 0.15, 0.7),  # curved hand
    "O": (0.55, 0.65, 0.65, 0.65, 0.65, 0.1, 0.45),  # fingertips touch the thumb
    "CLAW": (0.3, 0.55, 0.55, 0.55, 0.55, 1.0, 0.8),  # bent spread fingers
    "F": (0.5, 0.6, 0.0, 0.0, 0.0, 0.7, 0.4),  # index-thumb ring, others out
    "X": (0.8, 0.55, 1.0, 1.0, 1.0, 0.1, 0.1),  # hooked index
}
REST_SHAPE = (0.3, 0.3, 0.35, 0.4, 0.45, 0.3, 0.4)  # relaxed hand

# Orientations as (finger direction, palm normal) in dominant space (x toward the
# body's midline for the dominant hand, y down, z toward the camera).
_ORIENT_VECTORS = {
    "up_out": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),  # fingers up, palm to the camera
    "up_in": ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),  # fingers up, palm to the midline
    "up_back": ((0.0, -1.0, 0.2), (0.0, 0.0, -1.0)),  # palm toward the signer
    "fwd_down": ((0.0, 0.2, 1.0), (0.0, 1.0, 0.0)),  # fingers forward, palm down
    "fwd_up": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),  # palm up
    "fwd_in": ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),  # palm to the midline
    "across_down": ((1.0, 0.0, 0.3), (0.0, 1.0, 0.0)),  # fingers across the body
    "across_back": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "diag_out": ((0.7, -0.7, 0.2), (0.0, 0.0, 1.0)),  # fingers up and in
    "diag_down": ((0.6, -0.5, 0.6), (0.0, 1.0, 0.0)),
}
ORIENTATIONS: dict[str, np.ndarray] = {
    k: frame_quat(*v) for k, v in _ORIENT_VECTORS.items()
}
REST_QUAT = frame_quat((0.45, 0.55, 0.7), (0.3, 0.2, -1.0))  # hand hanging, palm in

# Dominant-space locations of the average body (neck origin, dominant side x < 0).
LOCATIONS: dict[str, tuple[float, float, float]] = {
    # wrist targets: for signs at the head the wrist sits ~0.1 below the contact point
    "neutral": (-0.16, 0.15, 0.24),
    "neutral_high": (-0.16, 0.05, 0.24),
    "neutral_low": (-0.14, 0.25, 0.22),
    "center": (-0.09, 0.13, 0.26),
    "ipsi": (-0.27, 0.14, 0.20),
    "forward": (-0.15, 0.11, 0.32),
    "chest": (-0.11, 0.12, 0.13),
    "stomach": (-0.12, 0.26, 0.15),
    "chin": (-0.06, -0.02, 0.15),
    "mouth": (-0.05, -0.05, 0.15),
    "cheek": (-0.12, -0.08, 0.12),
    "forehead": (-0.07, -0.15, 0.13),
    "temple": (-0.17, -0.13, 0.09),
    "above_head": (-0.19, -0.22, 0.13),
    "shoulder_contra": (0.03, 0.06, 0.12),
    "side_high": (-0.30, 0.01, 0.16),
}
# Two-handed signs stay in front of the body, away from the midline.
TWO_HAND_LOCATIONS = (
    "neutral",
    "neutral_high",
    "neutral_low",
    "ipsi",
    "forward",
    "chest",
    "stomach",
    "side_high",
)
MOVEMENTS = ("hold", "straight", "arc", "circle", "repeated", "wiggle")
_MOVE_P = np.array([0.14, 0.24, 0.17, 0.15, 0.18, 0.12])
DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "up": (0.0, -1.0, 0.0),
    "down": (0.0, 1.0, 0.0),
    "forward": (0.0, 0.0, 1.0),
    "back": (0.0, 0.0, -1.0),
    "contra": (1.0, 0.0, 0.0),
    "ipsi": (-1.0, 0.0, 0.0),
    "up_contra": (0.7, -0.7, 0.0),
    "down_ipsi": (-0.7, 0.7, 0.0),
    "fwd_down": (0.0, 0.6, 0.8),
    "fwd_contra": (0.6, 0.0, 0.8),
}
HANDS = ("one", "symmetric", "alternating", "base")
_HANDS_P = np.array([0.45, 0.25, 0.12, 0.18])
# Base durations in frames at 25 fps (before tempo and per-sign variation).
_DURATION = {
    "hold": (4, 6),
    "straight": (5, 7),
    "arc": (5, 8),
    "circle": (7, 10),
    "repeated": (7, 10),
    "wiggle": (6, 9),
}


@dataclass(frozen=True)
class Sign:
    """The citation form of one gloss (dominant space, average body)."""

    gloss: str
    handshape: str
    handshape_end: str  # == handshape when the shape does not change
    orientation: str
    location: str
    movement: str
    direction: str  # of straight/arc/repeated movements; circle plane normal otherwise
    amplitude: float  # path size in .skels units (circle radius)
    repeats: int  # back-and-forth cycles (repeated), loops (circle)
    hands: str  # one | symmetric | alternating | base
    base_shape: str  # non-dominant hand shape of "base" signs
    duration: int  # frames at 25 fps

    @property
    def key(self) -> tuple:
        return (
            self.handshape,
            self.handshape_end,
            self.orientation,
            self.location,
            self.movement,
            self.direction,
            self.hands,
        )


def _gloss_rng(gloss: str, attempt: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{LEXICON_SEED}:{gloss}:{attempt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def make_sign(gloss: str, attempt: int = 0) -> Sign:
    """The sign of ``gloss``; a pure function of (gloss, attempt, LEXICON_SEED)."""
    rng = _gloss_rng(gloss, attempt)
    shapes = list(HANDSHAPES)
    hs = shapes[int(rng.integers(len(shapes)))]
    hs_end = shapes[int(rng.integers(len(shapes)))] if rng.random() < 0.15 else hs
    hands = HANDS[int(rng.choice(len(HANDS), p=_HANDS_P))]
    locs = (
        TWO_HAND_LOCATIONS
        if hands in ("symmetric", "alternating")
        else tuple(LOCATIONS)
    )
    loc = locs[int(rng.integers(len(locs)))]
    move = MOVEMENTS[int(rng.choice(len(MOVEMENTS), p=_MOVE_P))]
    dirs = list(DIRECTIONS)
    direction = dirs[int(rng.integers(len(dirs)))]
    lo, hi = {
        "straight": (0.09, 0.16),
        "arc": (0.10, 0.18),
        "circle": (0.04, 0.07),
        "repeated": (0.04, 0.07),
        "hold": (0.01, 0.02),
        "wiggle": (0.01, 0.025),
    }[move]
    orient = list(ORIENTATIONS)
    lo_d, hi_d = _DURATION[move]
    return Sign(
        gloss=gloss,
        handshape=hs,
        handshape_end=hs_end,
        orientation=orient[int(rng.integers(len(orient)))],
        location=loc,
        movement=move,
        direction=direction,
        amplitude=float(np.round(rng.uniform(lo, hi), 4)),
        repeats=int(rng.integers(2, 4)) if move == "repeated" else 1,
        hands=hands,
        base_shape=("B", "5", "S", "1")[int(rng.integers(4))],
        duration=int(rng.integers(lo_d, hi_d + 1)),
    )


def build_lexicon(glosses: list[str] | None = None) -> dict[str, Sign]:
    """One distinct sign per gloss ID (default: every gloss the grammar can produce).

    Glosses are processed in sorted order; a sign whose key is already taken is redrawn
    with the next attempt number, so the result is deterministic.
    """
    glosses = sorted(all_gloss_ids() if glosses is None else set(glosses))
    lexicon: dict[str, Sign] = {}
    taken: set[tuple] = set()
    for gloss in glosses:
        attempt = 0
        sign = make_sign(gloss, attempt)
        while sign.key in taken:
            attempt += 1
            sign = make_sign(gloss, attempt)
        taken.add(sign.key)
        lexicon[gloss] = sign
    return lexicon


LEXICON: dict[str, Sign] = build_lexicon()

# German gloss names (PHOENIX-style: uppercase, umlauts spelt out) for language "de".
_DE_NAMES = """
AFTERNOON NACHMITTAG|AGAIN WIEDER|AIR LUFT|ALL GANZ|ALLGAEU ALLGAEU|ALPS ALPEN
APRIL APRIL|AROUND UNGEFAEHR|ATLANTIC ATLANTIK|AUGUST AUGUST|AUGSBURG AUGSBURG
AUSTRIA OESTERREICH|AUTUMN HERBST|AZORES AZOREN|ARCTIC ARKTIS
BADEN-WUERTTEMBERG BADEN-WUERTTEMBERG|BALTIC-SEA OSTSEE|BAVARIA BAYERN
BAVARIAN-FOREST BAYERISCH-WALD|BEGINNING ANFANG|BELGIUM BELGIEN|BERLIN BERLIN
BISCAY BISKAYA|BLACK-FOREST SCHWARZWALD|BONN BONN|BRANDENBURG BRANDENBURG|BREMEN BREMEN
BRING BRINGEN|BRITAIN ENGLAND|BUT ABER|BYE TSCHUESS|CENTER MITTE|CHANGEABLE WECHSELHAFT
CITY STADT|CLEAR KLAR|CLEAR-UP AUFLOCKERUNG|CLOUD WOLKE|COAST KUESTE|COLD KALT
COLOGNE KOELN|COME KOMMEN|COOL ABKUEHLEN|CZECHIA TSCHECHIEN|DANGER GEFAHR|DANUBE DONAU
DAY TAG|DAY-AFTER-TOMORROW UEBERMORGEN|DECEMBER DEZEMBER|DECREASE NACHLASSEN
DEGREE GRAD|DENMARK DAENEMARK|DENSE DICHT|DETERMINE BESTIMMEN|DEW TAU
DISSOLVE AUFLOESEN|DRESDEN DRESDEN|DRIZZLE NIESELREGEN|DRY TROCKEN|DURING LAUF
EAST OST|EDGE RAND|EIFEL EIFEL|EIGHT ACHT|EIGHTEEN ACHTZEHN|ELBE ELBE|ELEVEN ELF
EMSLAND EMSLAND|END ENDE|ERFURT ERFURT|EVENING ABEND|EVERYWHERE UEBERALL
FALL SINKEN|RISE STEIGEN
FEBRUARY FEBRUAR|FEW EINIGE|FIFTEEN FUENFZEHN|FIVE FUENF|FLOOD HOCHWASSER|FOG NEBEL
FOUR VIER|FOURTEEN VIERZEHN|FRANCE FRANKREICH|FRANKFURT FRANKFURT|FREIBURG FREIBURG
FRESH FRISCH|FRIDAY FREITAG|FRIENDLY FREUNDLICH|FROM AB|FROST FROST|GERMANY DEUTSCHLAND
GROUND BODEN|GUST BOEE|HAIL HAGEL|HAMBURG HAMBURG|HANOVER HANNOVER|HARZ HARZ|HEAT HITZE
HELLO GUTEN-ABEND|HESSE HESSEN|HIGH-PRESSURE HOCH|HOARFROST RAUREIF|HOUR STUNDE
HUMID SCHWUEL|ICELAND ISLAND|ISLAND INSEL|ISOLATED VEREINZELT|ITALY ITALIEN
JANUARY JANUAR|JULY JULI|JUNE JUNI|KIEL KIEL|LAKE-CONSTANCE BODENSEE|LATER SPAETER
LEIPZIG LEIPZIG|LITTLE WENIG|LOCAL OERTLICH|LONG LANG|LOW-PRESSURE TIEF
LOWER-SAXONY NIEDERSACHSEN|LOWLAND FLACHLAND|LUSATIA LAUSITZ|MAGDEBURG MAGDEBURG
MAINZ MAINZ|MANY VIEL|MARCH MAERZ|MAXIMUM MAXIMAL|MAY MAI|MECKLENBURG MECKLENBURG
MEDITERRANEAN MITTELMEER|MIDDLE MITTE-ZEIT|MIDNIGHT MITTERNACHT|MILD MILD
MINIMUM MINIMAL|MINUS MINUS|MODERATE MAESSIG|MONDAY MONTAG|MORE MEHR|MORNING MORGEN
MOSTLY MEISTENS|MOUNTAIN BERG|MOVE ZIEHEN|MUCH VIEL-MENGE|MUNICH MUENCHEN
NETHERLANDS HOLLAND|NEXT NAECHSTE|NICE SCHOEN|NIGHT NACHT|NINE NEUN|NINETEEN NEUNZEHN
NOON MITTAG|NORMAL NORMAL|NORTH NORD|NORTH-RHINE-WESTPHALIA NORDRHEIN-WESTFALEN
NORTH-SEA NORDSEE|NORTHEAST NORDOST|NORTHWEST NORDWEST|NOVEMBER NOVEMBER|NOW JETZT
NUREMBERG NUERNBERG|OCTOBER OKTOBER|OFTEN OFT|ONE EINS|ORE-MOUNTAINS ERZGEBIRGE
PARTLY TEILWEISE|PLACE ORT|POLAND POLEN|POSSIBLE MOEGLICH|POTSDAM POTSDAM|RAIN REGEN
REGENSBURG REGENSBURG|REST REST|RHINE RHEIN|RHINELAND-PALATINATE RHEINLAND-PFALZ
RIVER FLUSS|ROSTOCK ROSTOCK|RUHR RUHRGEBIET|RUSSIA RUSSLAND|SAARLAND SAARLAND
SATURDAY SAMSTAG|SAXONY SACHSEN|SAXONY-ANHALT SACHSEN-ANHALT|SCANDINAVIA SKANDINAVIEN
SCHLESWIG-HOLSTEIN SCHLESWIG-HOLSTEIN|SEASON JAHRESZEIT|SEPTEMBER SEPTEMBER
SEVEN SIEBEN|SEVENTEEN SIEBZEHN|SEVERE SCHWER|SHOWER SCHAUER|SIX SECHS
SIXTEEN SECHZEHN|SLEET SCHNEEREGEN|SLIPPERY GLATT|SNOW SCHNEE|SOMETIMES MANCHMAL
SOUTH SUED|SOUTHEAST SUEDOST|SOUTHWEST SUEDWEST|SPAIN SPANIEN|SPREAD AUSBREITEN
SPRING FRUEHLING|STAY BLEIBEN|STORM STURM|STREET STRASSE|STRONG STARK
STUTTGART STUTTGART|SUMMER SOMMER|SUN SONNE|SUNDAY SONNTAG|SWITZERLAND SCHWEIZ
TEMPERATURE TEMPERATUR|TEN ZEHN|THANK-YOU DANKE|THIRTEEN DREIZEHN|THIRTY DREISSIG
THIRTY-FIVE FUENFUNDDREISSIG|THIRTY-FOUR VIERUNDDREISSIG|THIRTY-ONE EINUNDDREISSIG
THIRTY-THREE DREIUNDDREISSIG|THIRTY-TWO ZWEIUNDDREISSIG|THREE DREI
THUNDERSTORM GEWITTER|THURINGIA THUERINGEN|THURSDAY DONNERSTAG|TODAY HEUTE
TOMORROW MORGEN-TAG|TOO ZU|TUESDAY DIENSTAG|TWELVE ZWOELF|TWENTY ZWANZIG
TWENTY-EIGHT ACHTUNDZWANZIG|TWENTY-FIVE FUENFUNDZWANZIG|TWENTY-FOUR VIERUNDZWANZIG
TWENTY-NINE NEUNUNDZWANZIG|TWENTY-ONE EINUNDZWANZIG|TWENTY-SEVEN SIEBENUNDZWANZIG
TWENTY-SIX SECHSUNDZWANZIG|TWENTY-THREE DREIUNDZWANZIG|TWENTY-TWO ZWEIUNDZWANZIG
TWO ZWEI|UNTIL BIS|UPLANDS MITTELGEBIRGE|VALLEY TAL|VIEWERS ZUSCHAUER|WARM WARM
WARNING WARNUNG|WEAK SCHWACH|WEATHER WETTER|WEDNESDAY MITTWOCH|WEEK WOCHE
WEEKEND WOCHENENDE|WEST WEST|WET NASS|WHOLE GANZ-TAG|WIND WIND|WINTER WINTER|ZERO NULL
"""
GLOSS_DE: dict[str, str] = dict(
    item.split() for line in _DE_NAMES.strip().splitlines() for item in line.split("|")
)


def gloss_name(gloss_id: str, language: str) -> str:
    """The written gloss of ``gloss_id`` in the corpus language ("en" | "de")."""
    if language == "en":
        return gloss_id
    if language == "de":
        return GLOSS_DE[gloss_id]
    raise ValueError(f"CorpusConfig.language must be 'en' or 'de', got {language!r}")
