"""The generated world: fictional people with checkable facts, and their biographies (NonSynth).

Everything is seeded: the same `seed` gives the same people and the same texts, byte for byte.
Biographies are deliberately *diverse* (many sentence templates, shuffled attribute order,
pronouns, filler sentences) — the natural-text side of the paper's SynthQA/NonSynth contrast.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass

ATTRIBUTES = ("birth_date", "birth_city", "university", "major", "employer", "work_city")
ATTRIBUTE_LABELS = {
    "birth_date": "birth date",
    "birth_city": "birth city",
    "university": "university",
    "major": "major",
    "employer": "employer",
    "work_city": "work city",
}

FIRST_NAMES = {
    "f": """Alice Beatrix Clara Delia Edith Fiona Greta Helena Irene Julia Katrin Lena Mira Nadia Olga
    Petra Quinn Rosa Selma Tessa Ursula Vera Wanda Xenia Yara Zelda Agnes Bianca Carmen Dora Elsa Flora
    Gilda Hanna Ilse Jana Kira Lotte Maren Nora Orla Paula Rhea Sonja Thea Una Viola Willa Ada Berit
    Cora Dagny Ebba Freya Gwen Hedda Ingrid Jorun Kaja Liv Maja""".split(),
    "m": """Aaron Bruno Caspar Dorian Emil Felix Gustav Henrik Ivo Jonas Kasimir Lorenz Milo Nils Oskar
    Pavel Quentin Rafael Stefan Tobias Ulrich Viktor Walter Xaver Yannick Zeno Anton Boris Cyril Dario
    Elias Fabian Georg Hugo Ignaz Jakob Konrad Leon Matteo Noah Otto Philipp Rolf Silas Theo Valentin
    Wim Arvid Bjorn Colm Dag Erik Finn Gunnar Halvor Ingo Joakim Knut Leif""".split(),
}
LAST_NAMES = """Abernathy Bellweather Castellano Dunmore Eriksen Falkenrath Galloway Hargreave Ishikawa
Jablonski Kettering Lindqvist Marchetti Nakamura Oyelaran Pemberton Quayle Rasmussen Szabo Thornbury
Underhill Valdivia Whitcombe Xiradakis Yamamoto Zielinski Ashdown Brannigan Corvino Delacroix Esposito
Fairweather Grimaldi Holloway Ingersoll Jovanovic Kowalczyk Larkspur Montague Novak Okonkwo Prescott
Quintero Rourke Salvatore Tanaka Umbridge Vasquez Wexley Yardley Zamora Aldridge Blackwood Crestfield
Drummond Ellsworth Fitzgerald Greenhalgh Hawthorne Ivanova Jennings Kingsley Lockhart Merriweather
Northcott Ostrowski Pennington Radcliffe Stroud Templeton Vandermeer Wainwright Ashcombe Birkholz
Calloway Dreyfus Eastwood Fenwick Glennon Haverford Iverson Juniper Kessler Langford Moreau Nightingale
Oakridge Pomeroy Renwick Sutherland Trevelyan Upton Voss Winterbourne Yeager Zeller""".split()

CITIES = """Arlington Brightwater Cedarholm Dunmore Eastvale Fairhaven Glenrock Highmoor Ironbridge Juniper
Kestrel Lakeshore Millbrook Northwick Oakhurst Pinecrest Queensport Ravenshaw Silverton Thornfield
Umberfield Valemont Westbury Yarrowdale Zephyr Ambergate Blackpool Coldwater Driftwood Elmstead
Foxborough Greystone Harrowgate Islington Jadeport Kingsbridge Larchmont Marston Newhaven Oldcastle""".split()
UNIVERSITIES = [
    f"{p} {s}" for p, s in [
        ("Northwick", "University"), ("Valemont", "Institute of Technology"), ("Harrowgate", "College"),
        ("Silverton", "University"), ("Brightwater", "Polytechnic"), ("Kingsbridge", "University"),
        ("Eastvale", "State University"), ("Oakhurst", "College"), ("Greystone", "Institute"),
        ("Larchmont", "University"), ("Ravenshaw", "Academy"), ("Thornfield", "University"),
        ("Fairhaven", "Institute of Science"), ("Cedarholm", "University"), ("Marston", "College"),
        ("Queensport", "University"), ("Westbury", "Technical University"), ("Pinecrest", "University"),
        ("Ironbridge", "College of Arts"), ("Millbrook", "University"), ("Zephyr", "Institute"),
        ("Coldwater", "University"), ("Highmoor", "College"), ("Elmstead", "University"),
    ]
]
MAJORS = """Mathematics Physics Chemistry Biology Economics History Philosophy Linguistics Architecture
Astronomy Geology Psychology Sociology Statistics Music Literature Medicine Law Engineering Botany
Zoology Anthropology Oceanography Pharmacology""".split()
EMPLOYERS = [
    "Acme Robotics", "Bluefin Analytics", "Copperleaf Foods", "Driftwood Media", "Evergreen Energy",
    "Falcon Aerospace", "Granite Insurance", "Harbor Logistics", "Indigo Textiles", "Juniper Health",
    "Keystone Bank", "Lumen Optics", "Meridian Motors", "Nimbus Software", "Orchid Pharma",
    "Pioneer Mining", "Quartz Labs", "Redwood Publishing", "Sapphire Telecom", "Tidewater Shipping",
    "Umber Ceramics", "Vantage Consulting", "Willow Furniture", "Zenith Chemicals",
    "Atlas Construction", "Beacon Hotels", "Cobalt Semiconductors", "Delta Airlines Group",
]
MONTHS = """January February March April May June July August September October November December""".split()

# Sentence templates per attribute. {S}: subject (name or pronoun), {P}: possessive, {v}: value.
BIO_TEMPLATES = {
    "birth_date": [
        "{S} was born on {v}.", "{P} birthday falls on {v}.", "{S} came into the world on {v}.",
        "The date of {P_lower} birth is {v}.", "{S} celebrates a birthday every year because {s} was born on {v}.",
        "Records show that {s} was born on {v}.",
    ],
    "birth_city": [
        "{S} was born in {v}.", "{P} hometown is {v}.", "{S} spent {p} early childhood in {v} where {s} was born.",
        "{v} is the city where {s} was born.", "Born in {v}, {s} grew up near the river.",
        "{S} first saw the light of day in {v}.",
    ],
    "university": [
        "{S} studied at {v}.", "{S} graduated from {v}.", "{S} attended {v} as a student.",
        "{P} alma mater is {v}.", "After school {s} enrolled at {v}.", "{v} awarded {o} a degree.",
    ],
    "major": [
        "{S} majored in {v}.", "{P} field of study was {v}.", "{S} earned a degree in {v}.",
        "At university {s} focused on {v}.", "{S} chose {v} as {p} major.", "{v} was the subject {s} studied.",
    ],
    "employer": [
        "{S} works for {v}.", "{S} is employed by {v}.", "{P} employer is {v}.", "{S} holds a job at {v}.",
        "These days {s} earns a living at {v}.", "{v} hired {o} a few years ago.",
    ],
    "work_city": [
        "{S} works in {v}.", "{P} office is located in {v}.", "{S} commutes to {v} for work.",
        "{S} is based in {v} for {p} job.", "{v} is where {s} goes to work each day.",
        "Each morning {s} travels to the office in {v}.",
    ],
}
FILLERS = [
    "{S} enjoys long walks on weekends.", "{S} is known among friends for a good sense of humour.",
    "{S} likes to read in the evening.", "Friends describe {o} as curious and kind.",
    "{S} has a small garden with tomatoes.", "On holidays {s} often visits the sea.",
    "{S} plays chess with neighbours.", "{S} collects old postcards.", "{P} favourite season is autumn.",
    "{S} volunteers at a local library.", "{S} learned to cook from a grandparent.",
    "{S} rides a bicycle whenever the weather allows.",
]
PRONOUNS = {"f": dict(s="she", o="her", p="her"), "m": dict(s="he", o="him", p="his")}


@dataclass(frozen=True)
class Person:
    """One fictional person; `facts()` maps each attribute in ATTRIBUTES to its canonical value."""

    name: str
    gender: str
    birth_date: str
    birth_city: str
    university: str
    major: str
    employer: str
    work_city: str

    def facts(self) -> dict[str, str]:
        return {a: getattr(self, a) for a in ATTRIBUTES}

    def to_dict(self) -> dict:
        return asdict(self)


ATTRIBUTE_POOLS = {
    "birth_city": CITIES, "university": UNIVERSITIES, "major": MAJORS,
    "employer": EMPLOYERS, "work_city": CITIES,
}


def max_people() -> int:
    """Largest world the name pools allow (unique first+last names)."""
    return sum(len(v) for v in FIRST_NAMES.values()) * len(LAST_NAMES)


def _random_date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(1950, 2004)}"


def generate_people(n_people: int, seed: int) -> list[Person]:
    """`n_people` people with unique names and seeded attributes (same seed → same list)."""
    if not isinstance(n_people, int) or n_people < 1:
        raise ValueError(f"n_people must be a positive integer, got {n_people!r}: a world needs at least one person.")
    if n_people > max_people():
        raise ValueError(f"n_people={n_people} exceeds the {max_people()} unique names available; use fewer people.")
    rng = random.Random(seed)
    names: set[str] = set()
    people = []
    while len(people) < n_people:
        gender = rng.choice("fm")
        name = f"{rng.choice(FIRST_NAMES[gender])} {rng.choice(LAST_NAMES)}"
        if name in names:
            continue
        names.add(name)
        people.append(Person(name=name, gender=gender, birth_date=_random_date(rng),
                             **{a: rng.choice(pool) for a, pool in ATTRIBUTE_POOLS.items()}))
    return people


def _fill(template: str, person: Person, use_name: bool, value: str = "") -> str:
    pr = PRONOUNS[person.gender]
    subj = person.name if use_name else pr["s"].capitalize()
    poss = f"{person.name}'s" if use_name else pr["p"].capitalize()
    text = template.format(S=subj, P=poss, P_lower=f"{person.name}'s" if use_name else pr["p"],
                           s=person.name if use_name else pr["s"], o=person.name if use_name else pr["o"],
                           p=pr["p"], v=value)
    return text[0].upper() + text[1:]


def biography(person: Person, rng: random.Random, filler_rate: float = 0.35) -> str:
    """One biography: every attribute once, shuffled order, random templates, pronouns, fillers."""
    order = list(ATTRIBUTES)
    rng.shuffle(order)
    sentences = []
    for i, attr in enumerate(order):
        template = rng.choice(BIO_TEMPLATES[attr])
        use_name = i == 0 or rng.random() < 0.25
        sentences.append(_fill(template, person, use_name, getattr(person, attr)))
        if rng.random() < filler_rate:
            sentences.append(_fill(rng.choice(FILLERS), person, False))
    return " ".join(sentences)


def biographies(people: list[Person], per_person: int, seed: int) -> list[dict]:
    """`per_person` diverse biographies per person, as rows {"person", "text"}."""
    rng = random.Random(seed)
    return [{"person": p.name, "text": biography(p, rng)} for p in people for _ in range(per_person)]


def count_bio_templates() -> int:
    """Number of distinct attribute sentence templates (the design asks for at least 30)."""
    return sum(len(v) for v in BIO_TEMPLATES.values())
