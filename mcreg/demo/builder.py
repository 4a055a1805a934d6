"""A synthetic registry for demonstrations and load tests (``mcreg demo``).

``build_demo(registry, credentials=N, seed=S)`` records a plausible European
history through the registry's own commands only, so every rule of the
registry holds for it. The story is recorded in this order:

1. The operator registers twelve QA agencies (registered 2012-2016); one is
   suspended for a while by its national authority, one is deregistered.
2. National authorities register forty providers in fifteen EU/EEA countries.
3. Agencies, and for some providers a national authority, accredit every
   provider with validity from 2019-2021 for six years; some accreditations
   carry conditions, most of them fulfilled later.
4. Providers specify micro-credentials with the standard elements; agencies
   review some of them (the ones outside the provider's accreditation scope
   always), and one or two review decisions are appealed.
5. Providers issue N credentials in bulk, in cohorts between 2020 and mid-2025,
   each on a day on which its quality assurance is in force.
6. Afterwards: revisions and retirements, accreditations withdrawn or suspended
   after the last credential they covered, credentials revoked (2%) and
   suspended (1%), and cross-border recognitions (3%) with appeals.

Every choice comes from ``random.Random(seed)`` and every date is a fixed
calendar date no later than ``registry.today()``, so the same seed and size
record the same content. Ids the registry derives from natural keys
(agencies, providers, accreditations, reviews) repeat from one run to the
next; ids the registry draws itself (micro-credentials, credentials, learners,
recognitions), ciphertexts and system times do not.

Agency, provider and place names are invented; DEQAR-like ids start with
``DEMO``; ESCO URIs have ESCO's form but name no real skill.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from math import isqrt
from uuid import NAMESPACE_URL, UUID, uuid5

from mcreg.registry.aggregates.learners import PersonalData
from mcreg.registry.application import DEFAULT_VALIDITY, IssueRow, Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import (
    AppealOutcome,
    AssessmentType,
    ESGActivity,
    Participation,
    ProviderType,
    QADecision,
    QAType,
    RecognitionOutcome,
    RecognitionPurpose,
    Requester,
    RevocationReason,
    Role,
    Stackability,
    Supervision,
)

OPERATOR = Actor(org=uuid5(NAMESPACE_URL, "mcreg:demo:operator"), role=Role.OPERATOR, key_id="demo")

ISSUING_FROM = date(2020, 1, 1)
ISSUING_UNTIL = date(2025, 6, 30)
"""Credentials are issued between these days; what follows them happens later, and never after today."""

REVOKED_SHARE, SUSPENDED_SHARE, RECOGNISED_SHARE = 0.02, 0.01, 0.03


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` recorded: registrations, grants, opened reviews, issued credentials,
    revocations, suspensions, recognition requests and appeals lodged (on reviews and on recognitions)."""

    agencies: int
    providers: int
    accreditations: int
    reviews: int
    microcredentials: int
    credentials: int
    revoked: int
    suspended: int
    recognitions: int
    appeals: int


def build_demo(
    registry: Registry,
    *,
    credentials: int,
    seed: int = 1,
    batch_size: int = 1000,
    progress: Callable[[int], None] = lambda n: None,
) -> DemoSummary:
    """Record a synthetic but rule-abiding registry with ``credentials`` issued credentials.

    Credentials are issued through ``Registry.issue_credentials`` in batches of
    at most ``batch_size`` rows, one provider at a time; ``progress(n)`` is
    called after each n credentials issued. The registry should be empty:
    agencies and providers have fixed DEQAR-like ids and cannot be registered twice.
    Raises ValueError when the registry's today comes too soon after the history's last issue day.
    """
    if credentials < 0 or batch_size < 1:
        raise ValueError("credentials must be 0 or more and batch_size at least 1")
    if registry.today() < ISSUING_UNTIL + timedelta(days=90):
        raise ValueError(f"the demo's history runs to {ISSUING_UNTIL}; the registry's today is too early")
    return _DemoBuilder(registry, random.Random(seed)).build(credentials, batch_size, progress)


# Invented organisations ---------------------------------------------------------

_INST, _PROG, _JOINT, _MC = (
    ESGActivity.INSTITUTIONAL,
    ESGActivity.PROGRAMME,
    ESGActivity.JOINT_PROGRAMME,
    ESGActivity.MICRO_CREDENTIAL,
)

# fmt: off
_AGENCIES = (  # country, name, acronym, ESG activities; the fifth is suspended for a while, the last deregistered
    ("NL", "Nederlands-Vlaamse Kwaliteitsraad Hoger Onderwijs", "NVKHO", (_INST, _PROG, _JOINT, _MC)),
    ("DE", "Stiftung Akkreditierung und Qualitätsentwicklung an Hochschulen", "SAQH", (_PROG, _INST, _MC)),
    ("FR", "Haute autorité d'évaluation des formations supérieures", "HAEFS", (_INST, _PROG)),
    ("ES", "Agencia de Calidad Universitaria del Atlántico", "ACUA", (_PROG, _MC)),
    ("IT", "Agenzia per la Qualità della Formazione Superiore", "AQFS", (_INST, _PROG)),
    ("PT", "Agência de Garantia da Qualidade do Ensino Superior", "AGQES", (_INST, _PROG, _JOINT)),
    ("PL", "Komisja Jakości Kształcenia Wyższego", "KJKW", (_PROG, _INST)),
    ("CZ", "Rada pro akreditaci vysokých škol", "RAVŠ", (_INST, _PROG)),
    ("FI", "Korkeakoulujen laadunarviointikeskus", "KLAK", (_INST, _MC)),
    ("NO", "Norsk byrå for kvalitet i høyere utdanning", "NBKHU", (_INST, _PROG, _MC)),
    ("AT", "Österreichische Agentur für Hochschulqualität", "ÖAHQ", (_INST, _PROG, _MC)),
    ("EE", "Balti Kõrg- ja Kutsehariduse Hindamiskeskus", "BKKH", (_INST, _PROG)),
)
# fmt: on


@dataclass(frozen=True)
class _Profile:
    kind: ProviderType
    eqf_levels: tuple[int, ...]
    fields: tuple[str, ...]  # broad ISCED-F fields it may be accredited for; () means all fields
    comprehensive_share: float = 0.0  # how often its accreditation leaves the fields open


# fmt: off
_PROFILES = {
    "university": _Profile(ProviderType.HIGHER_EDUCATION, (6, 7, 8), ("01", "03", "04", "05", "06", "07", "09"), 0.3),
    "applied": _Profile(ProviderType.HIGHER_EDUCATION, (5, 6, 7), ("04", "06", "07", "09", "10")),
    "vocational": _Profile(ProviderType.VOCATIONAL, (4, 5), ("06", "07", "08", "10")),
    "adult": _Profile(ProviderType.ADULT_LEARNING, (4, 5), ()),
    "business": _Profile(ProviderType.PRIVATE, (5, 6, 7), ("03", "04", "06")),
    "public": _Profile(ProviderType.PUBLIC_BODY, (5, 6), ("03", "04", "06")),
}
# fmt: on

# fmt: off
_PROVIDERS = (  # country, profile, local language, local name, English name, SCHAC stem, Erasmus code
    ("NL", "university", "nl", "Universiteit Oosterveld", "Oosterveld University", "uni-oosterveld", "NL OOSTERV01"),
    ("NL", "applied", "nl", "Hogeschool Zuidwaarden", "Zuidwaarden University of Applied Sciences", "hs-zuidwaarden",
     "NL ZUIDWAA01"),
    ("NL", "vocational", "nl", "ROC Lingemond", "Lingemond Regional Vocational College", "roc-lingemond", None),
    ("BE", "university", "nl", "Universiteit Scheldeland", "Scheldeland University", "uni-scheldeland", "B  SCHELDE01"),
    ("BE", "applied", "fr", "Haute École de la Haute-Meuse", "Upper Meuse University College", "he-hautemeuse",
     "B  HMEUSE01"),
    ("BE", "adult", "nl", "Centrum voor Volwassenenonderwijs Leiedal", "Leiedal Adult Education Centre", "cvo-leiedal",
     None),
    ("DE", "university", "de", "Universität Lindenau", "University of Lindenau", "uni-lindenau", "D  LINDENA01"),
    ("DE", "applied", "de", "Technische Hochschule Mittelweser", "Mittelweser University of Applied Sciences",
     "th-mittelweser", "D  MITTELW01"),
    ("DE", "applied", "de", "Hochschule Rabenfels", "Rabenfels University of Applied Sciences", "hs-rabenfels",
     "D  RABENFE01"),
    ("DE", "adult", "de", "Volkshochschule Kreis Elbtal", "Elbtal District Adult Education Centre", "vhs-elbtal", None),
    ("DE", "public", "de", "Akademie für Öffentliche Verwaltung Nordmark", "Nordmark Academy of Public Administration",
     "aoev-nordmark", None),
    ("FR", "university", "fr", "Université de Valmoreau", "University of Valmoreau", "univ-valmoreau", "F  VALMORE01"),
    ("FR", "applied", "fr", "École supérieure d'ingénieurs de Saint-Aurèle", "Saint-Aurèle School of Engineering",
     "esi-saintaurele", "F  STAUREL01"),
    ("FR", "vocational", "fr", "Centre de formation d'apprentis de Bréval-sur-Loire",
     "Bréval-sur-Loire Apprentice Training Centre", "cfa-breval", None),
    ("ES", "university", "es", "Universidad de Valdeoro", "University of Valdeoro", "uvaldeoro", "E  VALDEOR01"),
    ("ES", "applied", "es", "Universidad Politécnica del Cierzo", "Cierzo Polytechnic University", "upcierzo",
     "E  CIERZO01"),
    ("ES", "vocational", "es", "Centro Integrado de Formación Profesional Las Arenas",
     "Las Arenas Integrated Vocational Training Centre", "cifp-lasarenas", None),
    ("IT", "university", "it", "Università degli Studi di Montalbano", "University of Montalbano", "unimontalbano",
     "I  MONTALB01"),
    ("IT", "applied", "it", "Politecnico di Borgoalto", "Borgoalto Polytechnic", "poliborgoalto", "I  BORGOAL01"),
    ("IT", "vocational", "it", "Istituto Tecnico Superiore per la Mobilità Sostenibile di Ripalta",
     "Ripalta Higher Technical Institute for Sustainable Mobility", "its-ripalta", None),
    ("PT", "university", "pt", "Universidade de Vila Serrana", "University of Vila Serrana", "uvserrana",
     "P  VSERRAN01"),
    ("PT", "applied", "pt", "Instituto Politécnico de Ribaforte", "Polytechnic Institute of Ribaforte", "ipribaforte",
     "P  RIBAFOR01"),
    ("PL", "university", "pl", "Uniwersytet Nadwarciański", "Warta Valley University", "unadwarc", "PL NADWARC01"),
    ("PL", "applied", "pl", "Politechnika Nadbużańska", "Bug Valley University of Technology", "pnadbuz",
     "PL NADBUZA01"),
    ("PL", "business", "pl", "Akademia Biznesu i Innowacji", "Academy of Business and Innovation", "abi-edu",
     "PL ABIWARS01"),
    ("CZ", "university", "cs", "Podkrušnohorská univerzita", "Ore Mountains University", "upkh", "CZ PODKRUS01"),
    ("CZ", "applied", "cs", "Vysoká škola polytechnická Lipová", "Lipová College of Polytechnics", "vspl",
     "CZ LIPOVA01"),
    ("DK", "university", "da", "Vestkystens Universitet", "University of the West Coast", "vku", "DK VESTKYS01"),
    ("DK", "vocational", "da", "Erhvervsakademi Limfjord", "Limfjord Business Academy", "ea-limfjord", None),
    ("EE", "university", "et", "Põhjaranniku Ülikool", "North Coast University", "pru", "EE POHJARA01"),
    ("EE", "vocational", "et", "Lõuna-Eesti Kutsehariduskeskus", "South Estonia Vocational Education Centre", "lekhk",
     None),
    ("FI", "university", "fi", "Järvi-Suomen yliopisto", "University of Lakeland Finland", "jsy", "SF JARVISU01"),
    ("FI", "applied", "fi", "Pohjoisrannikon ammattikorkeakoulu", "North Coast University of Applied Sciences",
     "pramk", "SF POHJAMK01"),
    ("NO", "university", "nb", "Universitetet i Fjordvik", "University of Fjordvik", "uifjordvik", "N  FJORDVI01"),
    ("NO", "applied", "nb", "Høgskolen i Innlandsdal", "Innlandsdal University College", "hiinnlandsdal",
     "N  INNLAND01"),
    ("AT", "university", "de", "Universität Alpenvorland", "Alpine Foreland University", "uni-alpenvorland",
     "A  ALPENVO01"),
    ("AT", "applied", "de", "Fachhochschule Donauland", "Donauland University of Applied Sciences", "fh-donauland",
     "A  DONAULA01"),
    ("IE", "university", "ga", "Ollscoil an Chósta Thiar", "Western Seaboard University", "wsu", "IRLWESTSEA01"),
    ("IE", "applied", "ga", "Ollscoil Teicneolaíochta Lár na Tíre", "Midlands Technological University", "mtu-demo",
     "IRLMIDLAND01"),
    ("IE", "adult", "ga", "Bord Oideachais agus Oiliúna Cois Sionainne",
     "Shannonside Education and Training Board", "shannonside-etb", None),
)
# fmt: on


# Micro-credential topics ----------------------------------------------------------


@dataclass(frozen=True)
class _Topic:
    isced_field: str  # ISCED-F 2013 detailed field
    eqf_levels: tuple[int, ...]  # the levels at which it is usually offered
    titles: dict[str, str]  # by ISO 639-1 code; "en" always
    outcomes: tuple[str, ...]


# fmt: off
_TOPICS = (
    _Topic("0613", (5, 6, 7), {
        "en": "Data analysis with Python", "de": "Datenanalyse mit Python", "nl": "Data-analyse met Python",
        "fr": "Analyse de données avec Python", "es": "Análisis de datos con Python",
        "it": "Analisi dei dati con Python", "pt": "Análise de dados com Python", "pl": "Analiza danych w Pythonie",
        "cs": "Analýza dat v Pythonu", "da": "Dataanalyse med Python", "et": "Andmeanalüüs Pythoniga",
        "fi": "Data-analyysi Pythonilla", "nb": "Dataanalyse med Python",
    }, (
        "Clean and transform tabular data with pandas",
        "Visualise data to support a business decision",
        "Apply descriptive and inferential statistics to a real data set",
        "Document an analysis reproducibly in a notebook",
    )),
    _Topic("0612", (5, 6), {
        "en": "Cloud infrastructure fundamentals", "de": "Grundlagen der Cloud-Infrastruktur",
        "nl": "Basis van cloudinfrastructuur", "fr": "Fondamentaux de l'infrastructure cloud",
        "es": "Fundamentos de infraestructura en la nube", "it": "Fondamenti di infrastruttura cloud",
        "pt": "Fundamentos de infraestrutura em nuvem", "pl": "Podstawy infrastruktury chmurowej",
        "cs": "Základy cloudové infrastruktury", "da": "Grundlæggende cloudinfrastruktur",
        "et": "Pilvetaristu alused", "fi": "Pilvi-infrastruktuurin perusteet", "nb": "Grunnleggende skyinfrastruktur",
    }, (
        "Deploy a service on virtual machines and containers",
        "Configure networking and access control in a public cloud",
        "Estimate and monitor the cost of a cloud deployment",
    )),
    _Topic("0612", (5, 6, 7), {
        "en": "Cybersecurity essentials", "de": "Grundlagen der Cybersicherheit",
        "nl": "Basisprincipes van cyberbeveiliging", "fr": "Les essentiels de la cybersécurité",
        "es": "Fundamentos de ciberseguridad", "it": "Elementi di cybersicurezza",
        "pt": "Fundamentos de cibersegurança",
        "pl": "Podstawy cyberbezpieczeństwa", "cs": "Základy kybernetické bezpečnosti",
        "da": "Grundlæggende cybersikkerhed", "et": "Küberturvalisuse alused", "fi": "Kyberturvallisuuden perusteet",
        "nb": "Grunnleggende cybersikkerhet",
    }, (
        "Identify common threats to an organisation's information systems",
        "Apply risk assessment to prioritise security controls",
        "Respond to a security incident following a documented procedure",
        "Explain what NIS2 and the GDPR require of an organisation",
    )),
    _Topic("0611", (4, 5), {
        "en": "Digital skills for the workplace", "de": "Digitale Kompetenzen für den Arbeitsplatz",
        "nl": "Digitale vaardigheden voor de werkplek", "fr": "Compétences numériques pour le travail",
        "es": "Competencias digitales para el trabajo", "it": "Competenze digitali per il lavoro",
        "pt": "Competências digitais para o trabalho", "pl": "Kompetencje cyfrowe w pracy",
        "cs": "Digitální dovednosti pro praxi", "da": "Digitale kompetencer på arbejdspladsen",
        "et": "Digioskused töökohal", "fi": "Digitaidot työelämässä", "nb": "Digitale ferdigheter i arbeidslivet",
    }, (
        "Produce and share documents collaboratively with office software",
        "Protect personal data and devices when working online",
        "Communicate effectively through digital channels",
    )),
    _Topic("0413", (5, 6, 7), {
        "en": "Project management essentials", "de": "Grundlagen des Projektmanagements",
        "nl": "Basis projectmanagement", "fr": "Fondamentaux de la gestion de projet",
        "es": "Fundamentos de gestión de proyectos", "it": "Fondamenti di project management",
        "pt": "Fundamentos de gestão de projetos", "pl": "Podstawy zarządzania projektami",
        "cs": "Základy projektového řízení", "da": "Grundlæggende projektledelse", "et": "Projektijuhtimise alused",
        "fi": "Projektinhallinnan perusteet", "nb": "Grunnleggende prosjektledelse",
    }, (
        "Plan a project's scope, schedule and budget",
        "Manage risks and stakeholders through a project's life cycle",
        "Lead an agile team using iterative delivery",
        "Report progress to a steering group",
    )),
    _Topic("0488", (6, 7), {
        "en": "Sustainability reporting under the CSRD", "de": "Nachhaltigkeitsberichterstattung nach der CSRD",
        "nl": "Duurzaamheidsrapportage onder de CSRD", "fr": "Reporting de durabilité selon la CSRD",
        "es": "Información sobre sostenibilidad según la CSRD",
        "it": "Rendicontazione di sostenibilità secondo la CSRD",
        "pt": "Relato de sustentabilidade segundo a CSRD", "pl": "Raportowanie zrównoważonego rozwoju według CSRD",
        "cs": "Výkaznictví udržitelnosti podle CSRD", "da": "Bæredygtighedsrapportering efter CSRD",
        "et": "Kestlikkusaruandlus CSRD järgi", "fi": "Kestävyysraportointi CSRD:n mukaisesti",
        "nb": "Bærekraftsrapportering etter CSRD",
    }, (
        "Apply the European Sustainability Reporting Standards to a company's disclosures",
        "Carry out a double materiality assessment",
        "Collect greenhouse gas emission data across scopes 1 to 3",
    )),
    _Topic("0414", (5, 6), {
        "en": "Digital marketing analytics", "de": "Analytik im digitalen Marketing",
        "nl": "Analytics voor digitale marketing", "fr": "Analyse du marketing numérique",
        "es": "Analítica de marketing digital", "it": "Analisi del marketing digitale",
        "pt": "Análise de marketing digital", "pl": "Analityka marketingu cyfrowego",
        "cs": "Analytika digitálního marketingu", "da": "Analyse af digital markedsføring",
        "et": "Digiturunduse analüütika", "fi": "Digitaalisen markkinoinnin analytiikka",
        "nb": "Analyse av digital markedsføring",
    }, (
        "Measure campaign performance with web analytics",
        "Design and evaluate A/B tests",
        "Segment customers using behavioural data",
    )),
    _Topic("0411", (5, 6, 7), {
        "en": "International financial reporting (IFRS)", "de": "Internationale Rechnungslegung (IFRS)",
        "nl": "Internationale financiële verslaggeving (IFRS)",
        "fr": "Normes internationales d'information financière (IFRS)",
        "es": "Información financiera internacional (NIIF)", "it": "Principi contabili internazionali (IFRS)",
        "pt": "Relato financeiro internacional (IFRS)", "pl": "Międzynarodowa sprawozdawczość finansowa (MSSF)",
        "cs": "Mezinárodní standardy účetního výkaznictví (IFRS)", "da": "International regnskabsaflæggelse (IFRS)",
        "et": "Rahvusvaheline finantsaruandlus (IFRS)", "fi": "Kansainvälinen tilinpäätösraportointi (IFRS)",
        "nb": "Internasjonal finansiell rapportering (IFRS)",
    }, (
        "Prepare financial statements under IFRS",
        "Account for leases and for revenue from contracts with customers",
        "Explain the differences between IFRS and national accounting rules",
    )),
    _Topic("0314", (5, 6, 7), {
        "en": "Intercultural communication", "de": "Interkulturelle Kommunikation",
        "nl": "Interculturele communicatie", "fr": "Communication interculturelle", "es": "Comunicación intercultural",
        "it": "Comunicazione interculturale", "pt": "Comunicação intercultural", "pl": "Komunikacja międzykulturowa",
        "cs": "Interkulturní komunikace", "da": "Interkulturel kommunikation", "et": "Kultuuridevaheline suhtlus",
        "fi": "Kulttuurienvälinen viestintä", "nb": "Interkulturell kommunikasjon",
    }, (
        "Analyse how cultural values shape communication at work",
        "Adapt messages to audiences from different cultures",
        "Mediate misunderstandings in international teams",
    )),
    _Topic("0732", (4, 5, 6), {
        "en": "Energy-efficient building renovation", "de": "Energieeffiziente Gebäudesanierung",
        "nl": "Energiezuinige renovatie van gebouwen", "fr": "Rénovation énergétique des bâtiments",
        "es": "Rehabilitación energética de edificios", "it": "Riqualificazione energetica degli edifici",
        "pt": "Reabilitação energética de edifícios", "pl": "Termomodernizacja budynków",
        "cs": "Energeticky úsporné renovace budov", "da": "Energirenovering af bygninger",
        "et": "Hoonete energiatõhus renoveerimine", "fi": "Rakennusten energiatehokas korjausrakentaminen",
        "nb": "Energieffektiv rehabilitering av bygninger",
    }, (
        "Assess a building's energy performance",
        "Select insulation, ventilation and heating measures for a renovation",
        "Plan a renovation that meets the nearly zero-energy building standard",
    )),
    _Topic("0732", (5, 6, 7), {
        "en": "Building information modelling (BIM)", "de": "Building Information Modeling (BIM)",
        "nl": "Bouwinformatiemodellering (BIM)", "fr": "Modélisation des informations du bâtiment (BIM)",
        "es": "Modelado de información de construcción (BIM)",
        "it": "Modellazione delle informazioni di costruzione (BIM)",
        "pt": "Modelação de informação da construção (BIM)",
        "pl": "Modelowanie informacji o budynku (BIM)", "cs": "Informační modelování staveb (BIM)",
        "da": "Bygningsinformationsmodellering (BIM)", "et": "Ehitusinfo modelleerimine (BIM)",
        "fi": "Tietomallintaminen rakentamisessa (BIM)", "nb": "Bygningsinformasjonsmodellering (BIM)",
    }, (
        "Build and coordinate a multidisciplinary BIM model",
        "Exchange models using the open IFC standard",
        "Use a BIM model for quantity take-off and clash detection",
    )),
    _Topic("0713", (4, 5, 6), {
        "en": "Solar photovoltaic system design", "de": "Planung von Photovoltaikanlagen",
        "nl": "Ontwerp van zonnestroomsystemen", "fr": "Conception d'installations photovoltaïques",
        "es": "Diseño de instalaciones solares fotovoltaicas", "it": "Progettazione di impianti fotovoltaici",
        "pt": "Projeto de sistemas solares fotovoltaicos", "pl": "Projektowanie instalacji fotowoltaicznych",
        "cs": "Návrh fotovoltaických systémů", "da": "Design af solcelleanlæg",
        "et": "Päikeseenergiasüsteemide projekteerimine", "fi": "Aurinkosähköjärjestelmien suunnittelu",
        "nb": "Prosjektering av solcelleanlegg",
    }, (
        "Size a photovoltaic system for a given load and site",
        "Install and commission a grid-connected inverter safely",
        "Calculate the payback period of a residential solar installation",
    )),
    _Topic("0714", (4, 5, 6), {
        "en": "Industrial automation and PLC programming", "de": "Industrielle Automatisierung und SPS-Programmierung",
        "nl": "Industriële automatisering en PLC-programmering",
        "fr": "Automatisation industrielle et programmation d'automates",
        "es": "Automatización industrial y programación de PLC", "it": "Automazione industriale e programmazione PLC",
        "pt": "Automação industrial e programação de PLC", "pl": "Automatyka przemysłowa i programowanie PLC",
        "cs": "Průmyslová automatizace a programování PLC", "da": "Industriel automation og PLC-programmering",
        "et": "Tööstusautomaatika ja PLC programmeerimine", "fi": "Teollisuusautomaatio ja logiikkaohjelmointi",
        "nb": "Industriell automatisering og PLS-programmering",
    }, (
        "Program a PLC in the IEC 61131-3 languages",
        "Commission sensors and actuators on a production line",
        "Diagnose faults in an automated system",
    )),
    _Topic("0914", (5, 6, 7), {
        "en": "Artificial intelligence in medical imaging",
        "de": "Künstliche Intelligenz in der medizinischen Bildgebung",
        "nl": "Artificiële intelligentie in medische beeldvorming",
        "fr": "Intelligence artificielle en imagerie médicale", "es": "Inteligencia artificial en imagen médica",
        "it": "Intelligenza artificiale nella diagnostica per immagini",
        "pt": "Inteligência artificial em imagiologia médica", "pl": "Sztuczna inteligencja w diagnostyce obrazowej",
        "cs": "Umělá inteligence v lékařském zobrazování", "da": "Kunstig intelligens i medicinsk billeddannelse",
        "et": "Tehisintellekt meditsiinilises kuvamises", "fi": "Tekoäly lääketieteellisessä kuvantamisessa",
        "nb": "Kunstig intelligens i medisinsk bildediagnostikk",
    }, (
        "Evaluate the performance of an AI model for image-based diagnosis",
        "Explain the regulatory requirements for AI medical devices",
        "Integrate AI-assisted reading into a radiology workflow safely",
    )),
    _Topic("0913", (5, 6, 7), {
        "en": "Palliative care nursing", "de": "Palliativpflege", "nl": "Palliatieve zorg in de verpleegkunde",
        "fr": "Soins infirmiers palliatifs", "es": "Enfermería en cuidados paliativos",
        "it": "Assistenza infermieristica nelle cure palliative", "pt": "Enfermagem em cuidados paliativos",
        "pl": "Pielęgniarstwo w opiece paliatywnej", "cs": "Paliativní ošetřovatelská péče",
        "da": "Palliativ sygepleje", "et": "Palliatiivne õendusabi", "fi": "Palliatiivinen hoitotyö",
        "nb": "Palliativ sykepleie",
    }, (
        "Assess and manage pain and symptoms at the end of life",
        "Discuss goals of care with patients and families",
        "Coordinate palliative care within a multidisciplinary team",
    )),
    _Topic("0114", (6, 7), {
        "en": "Digital pedagogy for teachers", "de": "Digitale Didaktik für Lehrkräfte",
        "nl": "Digitale didactiek voor leraren", "fr": "Pédagogie numérique pour enseignants",
        "es": "Pedagogía digital para docentes", "it": "Didattica digitale per docenti",
        "pt": "Pedagogia digital para professores", "pl": "Dydaktyka cyfrowa dla nauczycieli",
        "cs": "Digitální didaktika pro učitele", "da": "Digital didaktik for lærere", "et": "Digididaktika õpetajatele",
        "fi": "Digipedagogiikka opettajille", "nb": "Digital didaktikk for lærere",
    }, (
        "Design blended learning activities aligned with learning outcomes",
        "Assess learners fairly in online settings",
        "Choose and use digital tools that meet accessibility requirements",
    )),
    _Topic("0521", (6, 7, 8), {
        "en": "Climate change adaptation planning", "de": "Planung der Anpassung an den Klimawandel",
        "nl": "Planning van klimaatadaptatie", "fr": "Planification de l'adaptation au changement climatique",
        "es": "Planificación de la adaptación al cambio climático",
        "it": "Pianificazione dell'adattamento ai cambiamenti climatici",
        "pt": "Planeamento da adaptação às alterações climáticas", "pl": "Planowanie adaptacji do zmian klimatu",
        "cs": "Plánování adaptace na změnu klimatu", "da": "Planlægning af klimatilpasning",
        "et": "Kliimamuutustega kohanemise planeerimine", "fi": "Ilmastonmuutokseen sopeutumisen suunnittelu",
        "nb": "Planlegging av klimatilpasning",
    }, (
        "Interpret regional climate projections and their uncertainty",
        "Assess climate risks for infrastructure and communities",
        "Develop an adaptation plan with local stakeholders",
    )),
    _Topic("0542", (7, 8), {
        "en": "Applied statistics for researchers", "de": "Angewandte Statistik für Forschende",
        "nl": "Toegepaste statistiek voor onderzoekers", "fr": "Statistique appliquée pour chercheurs",
        "es": "Estadística aplicada para investigadores", "it": "Statistica applicata per ricercatori",
        "pt": "Estatística aplicada para investigadores", "pl": "Statystyka stosowana dla badaczy",
        "cs": "Aplikovaná statistika pro výzkumníky", "da": "Anvendt statistik for forskere",
        "et": "Rakendusstatistika teadlastele", "fi": "Sovellettu tilastotiede tutkijoille",
        "nb": "Anvendt statistikk for forskere",
    }, (
        "Choose and fit regression models suited to the research design",
        "Handle missing data and multiple comparisons correctly",
        "Report statistical results transparently and reproducibly",
    )),
    _Topic("1015", (4, 5, 6), {
        "en": "Sustainable tourism management", "de": "Nachhaltiges Tourismusmanagement",
        "nl": "Duurzaam toerismemanagement", "fr": "Gestion du tourisme durable",
        "es": "Gestión del turismo sostenible", "it": "Gestione del turismo sostenibile",
        "pt": "Gestão do turismo sustentável", "pl": "Zarządzanie zrównoważoną turystyką",
        "cs": "Řízení udržitelného cestovního ruchu", "da": "Bæredygtig turismeledelse",
        "et": "Säästva turismi juhtimine", "fi": "Kestävän matkailun johtaminen", "nb": "Bærekraftig reiselivsledelse",
    }, (
        "Measure the environmental and social impact of a destination",
        "Design visitor experiences that respect a site's carrying capacity",
        "Prepare a tourism business's application for the EU Ecolabel",
    )),
    _Topic("0811", (4, 5, 6), {
        "en": "Precision agriculture", "de": "Präzisionslandwirtschaft", "nl": "Precisielandbouw",
        "fr": "Agriculture de précision", "es": "Agricultura de precisión", "it": "Agricoltura di precisione",
        "pt": "Agricultura de precisão", "pl": "Rolnictwo precyzyjne", "cs": "Precizní zemědělství",
        "da": "Præcisionslandbrug", "et": "Täppispõllumajandus", "fi": "Täsmäviljely", "nb": "Presisjonslandbruk",
    }, (
        "Map variability in a field from satellite and drone data",
        "Plan variable-rate fertilisation and seeding",
        "Evaluate the economic return of precision farming technology",
    )),
)
# fmt: on

_PREREQUISITES = {
    5: "Upper secondary education or equivalent work experience",
    6: "Upper secondary education giving access to higher education",
    7: "A bachelor's degree in a related field",
    8: "A master's degree; open to doctoral candidates",
}
_PROGRAMMES = {
    4: "Vocational certificate",
    5: "Short-cycle diploma",
    6: "Bachelor's programme",
    7: "Master's programme",
    8: "Doctoral school",
}
_GRADED = (AssessmentType.EXAM, AssessmentType.PROJECT, AssessmentType.ORAL, AssessmentType.MIXED)
# fmt: off
_SUPERVISION = {
    Participation.ONLINE: (Supervision.UNSUPERVISED, Supervision.SUPERVISED_VERIFIED_ONLINE),
    Participation.BLENDED: (Supervision.SUPERVISED, Supervision.SUPERVISED_VERIFIED_ONLINE,
                            Supervision.SUPERVISED_VERIFIED_ONSITE),
    Participation.ONSITE: (Supervision.SUPERVISED, Supervision.SUPERVISED_VERIFIED_ONSITE),
}
# fmt: on


# Learners --------------------------------------------------------------------------

# fmt: off
_NAMES = {  # female given names, male given names, family names ("male/female" where the form differs)
    "de": ("Anna, Lena, Sophie, Katharina, Johanna, Miriam", "Lukas, Jonas, Felix, Tobias, Maximilian, Jan",
           "Müller, Schmidt, Schneider, Fischer, Weber, Becker, Gruber, Huber"),
    "nl": ("Sanne, Emma, Lotte, Fleur, Noor, Femke", "Daan, Sem, Bram, Ruben, Thijs, Jeroen",
           "de Jong, Jansen, de Vries, van den Berg, Bakker, Visser, Peeters, Maes"),
    "fr": ("Camille, Léa, Manon, Chloé, Inès, Élodie", "Lucas, Hugo, Théo, Louis, Mathis, Julien",
           "Martin, Bernard, Dubois, Lefèvre, Moreau, Laurent, Girard, Lambert"),
    "es": ("Lucía, María, Paula, Carmen, Alba, Elena", "Hugo, Pablo, Alejandro, Javier, Diego, Sergio",
           "García López, Fernández Ruiz, González Díaz, Rodríguez Gil, Sánchez Moreno, Pérez Navarro"),
    "it": ("Giulia, Chiara, Francesca, Sara, Martina, Alessia", "Marco, Luca, Matteo, Davide, Andrea, Lorenzo",
           "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci"),
    "pt": ("Beatriz, Inês, Mariana, Ana, Catarina, Joana", "João, Tiago, Rodrigo, Duarte, Miguel, Rui",
           "Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins"),
    "pl": ("Zofia, Julia, Maja, Agnieszka, Katarzyna, Aleksandra", "Jakub, Antoni, Piotr, Tomasz, Mateusz, Łukasz",
           "Nowak, Kowalski/Kowalska, Wiśniewski/Wiśniewska, Wójcik, Kamiński/Kamińska, Mazur, Zieliński/Zielińska"),
    "cs": ("Tereza, Eliška, Anna, Natálie, Klára, Veronika", "Jakub, Jan, Tomáš, Ondřej, Vojtěch, Petr",
           "Novák/Nováková, Svoboda/Svobodová, Novotný/Novotná, Dvořák/Dvořáková, Černý/Černá, Kučera/Kučerová"),
    "da": ("Ida, Freja, Sofie, Mette, Camilla, Line", "William, Noah, Mads, Rasmus, Frederik, Mikkel",
           "Nielsen, Jensen, Hansen, Pedersen, Andersen, Christensen, Larsen, Sørensen"),
    "et": ("Maria, Laura, Kadri, Liis, Kertu, Triin", "Rasmus, Martin, Markus, Karl, Siim, Taavi",
           "Tamm, Saar, Sepp, Mägi, Kask, Kukk, Rebane, Ilves"),
    "fi": ("Aino, Emilia, Helmi, Venla, Sanna, Laura", "Eino, Onni, Väinö, Mikko, Juho, Antti",
           "Korhonen, Virtanen, Mäkinen, Nieminen, Mäkelä, Hämäläinen, Laine, Heikkinen"),
    "nb": ("Nora, Emma, Ingrid, Sofie, Maja, Kari", "Jakob, Emil, Lars, Magnus, Håkon, Sindre",
           "Hansen, Johansen, Olsen, Larsen, Berg, Haugen, Bakken, Solberg"),
    "ga": ("Aoife, Siobhán, Niamh, Ciara, Emily, Sarah", "Seán, Conor, Oisín, Jack, Darragh, Cian",
           "Murphy, Kelly, O'Sullivan, Walsh, O'Brien, Byrne, Ryan, Doyle"),
    "el": ("Eleni, Maria, Katerina, Sofia, Georgia, Dimitra", "Georgios, Nikolaos, Dimitrios, Ioannis, Alexandros",
           "Papadopoulos/Papadopoulou, Georgiou, Nikolaidis/Nikolaidou, Oikonomou, Vasileiou, Dimitriou"),
    "ro": ("Andreea, Ioana, Elena, Maria, Alexandra, Bianca", "Andrei, Alexandru, Mihai, Ionuț, Ștefan, Vlad",
           "Popescu, Ionescu, Popa, Dumitru, Stan, Stoica, Gheorghe, Rusu"),
    "hu": ("Anna, Réka, Eszter, Zsófia, Dóra, Katalin", "Bence, Máté, Levente, Dávid, Ádám, Gergely",
           "Nagy, Kovács, Tóth, Szabó, Horváth, Varga, Kiss, Molnár"),
    "uk": ("Olena, Iryna, Kateryna, Yuliia, Oksana, Anastasiia", "Oleksandr, Andrii, Dmytro, Serhii, Mykola, Taras",
           "Melnyk, Shevchenko, Bondarenko, Kovalenko, Tkachenko, Kravchenko, Boiko, Oliinyk"),
    "hr": ("Ana, Petra, Ivana, Lucija, Marija, Ema", "Luka, Ivan, Marko, Josip, Filip, Matej",
           "Horvat, Kovačević, Babić, Marić, Jurić, Novak, Knežević, Vuković"),
}
# fmt: on
# fmt: off
_GRADES = {  # the grades each country's providers typically award
    "AT": "1 2 3 4", "BE": "12/20 13/20 14/20 15/20 16/20 17/20", "CZ": "A B C D E",
    "DE": "1,0 1,3 1,7 2,0 2,3 2,7 3,0 3,3 3,7", "DK": "02 4 7 10 12", "EE": "A B C D E",
    "ES": "5,5 6,0 6,8 7,2 7,5 8,1 8,6 9,0 9,5", "FI": "1 2 3 4 5", "FR": "11/20 12/20 13/20 14/20 15/20 16/20",
    "IE": "Pass Merit Distinction", "IT": "24/30 25/30 26/30 27/30 28/30 29/30 30/30", "NL": "6 6,5 7 7,5 8 8,5 9",
    "NO": "A B C D E", "PL": "3,0 3,5 4,0 4,5 5,0", "PT": "12 13 14 15 16 17 18",
}
# fmt: on


# What QA bodies, providers and institutions write ------------------------------------

_ACCREDITATION_CONDITIONS = (
    "Publish the assessment regulations for short courses in English",
    "Introduce student evaluation of every micro-credential and report the results to the agency",
    "Align the workload of short courses with the institution's ECTS guidelines",
    "Involve employers in the design of professionally oriented micro-credentials",
)
_WITHDRAWAL_REASONS = (
    "Serious shortcomings in the internal quality assurance of short courses found in a follow-up review",
    "The provider did not submit the required mid-term report",
    "Governance failures established by the national inspectorate",
)
_ACCREDITATION_SUSPENSION_REASONS = (
    "Follow-up procedure opened after complaints about assessment practice",
    "Investigation of irregular admissions by the national inspectorate",
)
_REVIEW_SUMMARIES = {
    QADecision.POSITIVE: "The panel found the learning outcomes, assessment and workload consistent with EQF level "
    "{eqf} and {ects} ECTS.",
    QADecision.POSITIVE_WITH_CONDITIONS: "The panel confirmed the design but asks for assessment criteria that are "
    "published and aligned with the learning outcomes.",
    QADecision.NEGATIVE: "The panel found that the assessment does not evidence the stated learning outcomes at EQF "
    "level {eqf}.",
}
_REVIEW_CONDITIONS = "Publish assessment criteria aligned with the learning outcomes within twelve months"
_REVOCATIONS = (  # reason, note, weight
    (RevocationReason.ISSUED_IN_ERROR, "Duplicate issuance found during the annual records audit", 30),
    (
        RevocationReason.ASSESSMENT_ANNULLED,
        "Assessment result annulled by the examination board after a re-marking",
        25,
    ),
    (RevocationReason.FRAUD, "Impersonation at the final assessment established by the examination board", 15),
    (RevocationReason.LEARNER_REQUEST, "Withdrawn at the learner's request", 20),
    (RevocationReason.OTHER, "Learner record merged after a data-protection complaint", 10),
)
_CREDENTIAL_SUSPENSIONS = (
    "Investigation of suspected plagiarism in the final project",
    "Assessment under review following a learner complaint",
    "Identity verification pending after an examination irregularity",
)
_DIFFERENCES = (  # (difference, reason), formatted with the credential's EQF level and ECTS
    (
        "The micro-credential is at EQF level {eqf}; the course unit it would replace is at level {higher}",
        "Learning outcomes at EQF level {eqf} do not reach the depth the receiving programme requires",
    ),
    (
        "Workload of {ects} ECTS against {more} ECTS for the matching course unit",
        "The missing workload covers laboratory practice that is compulsory in the receiving programme",
    ),
    (
        "No learning outcome on research methods",
        "Research methods are a core learning outcome of the receiving programme and are not evidenced",
    ),
    (
        "The final assessment was not supervised",
        "The receiving programme requires supervised assessment with identity verification for credit transfer",
    ),
    (
        "The micro-credential covers the issuing country's regulation only",
        "The rules that apply in the receiving country are not covered",
    ),
)
_APPEAL_GROUNDS = (
    "The learner submits the detailed syllabus and argues that the differences found are not substantial",
    "The learner argues that comparable credentials from the same provider were recognised in full",
)


# What the builder knows of what it recorded ---------------------------------------------


@dataclass(eq=False)
class _Agency:
    id: UUID
    country: str
    slug: str
    activities: tuple[ESGActivity, ...]

    @property
    def actor(self) -> Actor:
        return Actor(self.id, Role.QA_AGENCY, key_id="demo")


@dataclass(eq=False)
class _Cover:
    """An accreditation, and the days on which the demo issues credentials under it."""

    eqf_levels: tuple[int, ...]
    isced_fields: tuple[str, ...]
    first_day: date
    last_day: date

    def covers_field(self, isced_field: str) -> bool:
        return not self.isced_fields or isced_field[:2] in self.isced_fields


@dataclass(eq=False)
class _Provider:
    id: UUID
    country: str
    language: str
    profile: _Profile
    english_name: str
    slug: str
    covers: list[_Cover] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return Actor(self.id, Role.PROVIDER, key_id="demo")

    @property
    def institution(self) -> Actor:
        return Actor(self.id, Role.INSTITUTION, key_id="demo")


@dataclass(eq=False)
class _MicroCredential:
    id: UUID
    provider: _Provider
    elements: dict[str, object]
    first_day: date  # the days on which its quality assurance covers issuing it
    last_day: date
    last_issued: date | None = None

    @property
    def ects(self) -> Decimal:
        return Decimal(str(self.elements["ects"]))

    @property
    def eqf_level(self) -> int:
        return int(str(self.elements["eqf_level"]))


@dataclass(frozen=True)
class _Issued:
    """A credential chosen at issuance for something that happens to it later."""

    id: UUID
    microcredential: _MicroCredential
    issued_on: date


class _DemoBuilder:
    """Records the demo's story, chapter by chapter, counting what it records."""

    def __init__(self, registry: Registry, rng: random.Random) -> None:
        self.registry = registry
        self.rng = rng
        self.today = registry.today()
        self.counts: Counter[str] = Counter()
        self.agencies: list[_Agency] = []  # those in good standing
        self.providers: list[_Provider] = []
        self.microcredentials: list[_MicroCredential] = []
        self.later: list[Callable[[], object]] = []  # QA events that take effect after the credentials they covered
        self.local_ids: Counter[str] = Counter()

    def build(self, credentials: int, batch_size: int, progress: Callable[[int], None]) -> DemoSummary:
        self.register_agencies()
        self.register_providers()
        for provider in self.providers:
            self.accredit(provider)
        self.specify_microcredentials(max(20, min(400, credentials // 100)))
        self.review_some_microcredentials()
        fated = self.issue_credentials(credentials, batch_size, progress)
        self.revise_and_retire_microcredentials()
        for record in self.later:
            record()
        self.revoke_credentials(fated["revoke"])
        self.suspend_credentials(fated["suspend"])
        self.recognise_credentials(fated["recognise"])
        return DemoSummary(**{f.name: self.counts[f.name] for f in fields(DemoSummary)})

    # Helpers ----------------------------------------------------------------------

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def days_after(self, day: date, least: int, most: int) -> date:
        """A day ``least`` to ``most`` days later, but never after today."""
        return min(self.today, day + timedelta(days=self.rng.randint(least, most)))

    def local_identifier(self, prefix: str, year: int) -> str:
        self.local_ids[prefix] += 1
        return f"{prefix}-{year}-{self.local_ids[prefix]:03d}"

    @staticmethod
    def authority(country: str) -> Actor:
        org = uuid5(NAMESPACE_URL, f"mcreg:demo:authority:{country}")
        return Actor(org, Role.NATIONAL_AUTHORITY, key_id="demo", country=country)

    # 1. Agencies --------------------------------------------------------------------

    def register_agencies(self) -> None:
        for number, (country, name, acronym, activities) in enumerate(_AGENCIES, start=1):
            agency_id = self.registry.register_agency(
                OPERATOR,
                name=name,
                country=country,
                acronym=acronym,
                deqar_id=f"DEMO-AG-{number:02d}",
                esg_activities=activities,
                registered_on=self.day_between(date(2012, 1, 1), date(2016, 12, 31)),
            )
            self.agencies.append(_Agency(agency_id, country, _ascii(acronym).lower(), activities))
            self.counts["agencies"] += 1
        self.suspend_agency_for_a_while(self.agencies[4])
        self.deregister_agency(self.agencies.pop())

    def suspend_agency_for_a_while(self, agency: _Agency) -> None:
        """Before any accreditation it grants takes effect, so no credential depends on the gap."""
        authority = self.authority(agency.country)
        suspended_on = self.day_between(date(2017, 2, 1), date(2017, 6, 30))
        reason = "Extraordinary review by EQAR after a complaint about the independence of review panels"
        self.registry.suspend_agency(authority, agency.id, reason=reason, effective=suspended_on)
        self.registry.reinstate_agency(authority, agency.id, effective=self.days_after(suspended_on, 150, 300))

    def deregister_agency(self, agency: _Agency) -> None:
        reason = "Registration on EQAR not renewed after the agency's external review"
        self.registry.deregister_agency(OPERATOR, agency.id, reason=reason, effective=date(2019, 6, 30))

    # 2. Providers ---------------------------------------------------------------------

    def register_providers(self) -> None:
        for number, (country, profile, language, local_name, english_name, slug, erasmus) in enumerate(
            _PROVIDERS, start=1
        ):
            provider_id = self.registry.register_provider(
                self.authority(country),
                names={"en": english_name, language: local_name},
                country=country,
                provider_type=_PROFILES[profile].kind,
                deqar_id=f"DEMOINST{number:04d}",
                schac=f"{slug}.example",
                erasmus_code=erasmus,
                registered_on=self.day_between(date(2005, 1, 1), date(2012, 12, 31)),
            )
            self.providers.append(_Provider(provider_id, country, language, _PROFILES[profile], english_name, slug))
            self.counts["providers"] += 1

    # 3. Accreditations ------------------------------------------------------------------

    def accredit(self, provider: _Provider) -> None:
        """One accreditation for every provider, a second one from another agency for some."""
        by_authority = self.rng.random() < (0.1 if provider.profile.kind == ProviderType.HIGHER_EDUCATION else 0.5)
        first = self.authority(provider.country) if by_authority else self.agency_for(provider).actor
        self.grant_accreditation(provider, first)
        if self.rng.random() < 0.25:
            others = [a for a in self.agencies if a.id != first.org]
            self.grant_accreditation(provider, self.rng.choice(others).actor)

    def agency_for(self, provider: _Provider) -> _Agency:
        at_home = [a for a in self.agencies if a.country == provider.country]
        return self.rng.choice(at_home if at_home and self.rng.random() < 0.75 else self.agencies)

    def grant_accreditation(self, provider: _Provider, granter: Actor) -> None:
        rng, profile = self.rng, provider.profile
        valid_from = self.day_between(date(2019, 1, 1), date(2021, 6, 30))
        if profile.fields and rng.random() >= profile.comprehensive_share:
            isced_fields = tuple(sorted(rng.sample(profile.fields, rng.randint(2, len(profile.fields)))))
        else:
            isced_fields = ()
        conditions = (
            [
                (text, valid_from + timedelta(days=rng.randint(365, 730)))
                for text in rng.sample(_ACCREDITATION_CONDITIONS, rng.randint(1, 2))
            ]
            if rng.random() < 0.25
            else []
        )
        if granter.role == Role.QA_AGENCY:
            agency = next(a for a in self.agencies if a.id == granter.org)
            prefix, site = agency.slug.upper(), f"{agency.slug}.example"
        else:
            prefix, site = f"{provider.country}-NA", f"education-authority-{provider.country.lower()}.example"
        local_identifier = self.local_identifier(f"{prefix}-ACC", valid_from.year)
        accreditation_id = self.registry.grant_accreditation(
            granter,
            provider_id=provider.id,
            outcome=QADecision.POSITIVE_WITH_CONDITIONS if conditions else QADecision.POSITIVE,
            valid_from=valid_from,
            local_identifier=local_identifier,
            eqf_levels=profile.eqf_levels,
            isced_fields=isced_fields,
            jurisdictions=(provider.country,),
            conditions=conditions,
            report_url=f"https://{site}/reports/{local_identifier.lower()}.pdf",
            decided_on=valid_from - timedelta(days=rng.randint(20, 90)),
        )
        self.counts["accreditations"] += 1
        first_day = max(valid_from, ISSUING_FROM)
        last_day = min(valid_from + DEFAULT_VALIDITY, ISSUING_UNTIL)
        unfulfilled = self.fulfil_conditions(granter, accreditation_id, valid_from, conditions)
        if unfulfilled is not None:
            withdrawn_on = max(self.days_after(unfulfilled, 30, 120), first_day + timedelta(days=180))
            reason = "Condition not fulfilled by its deadline"
            self.later.append(partial(self.withdraw_accreditation, granter, accreditation_id, reason, withdrawn_on))
            last_day = min(last_day, withdrawn_on - timedelta(days=1))
        elif rng.random() < 0.08 and (first_day + timedelta(days=540)) < last_day:
            disrupted_on = self.day_between(first_day + timedelta(days=540), last_day)
            if rng.random() < 0.5:
                reason = rng.choice(_WITHDRAWAL_REASONS)
                self.later.append(partial(self.withdraw_accreditation, granter, accreditation_id, reason, disrupted_on))
            else:
                self.later.append(partial(self.suspend_accreditation, granter, accreditation_id, disrupted_on))
            last_day = disrupted_on - timedelta(days=1)
        provider.covers.append(_Cover(profile.eqf_levels, isced_fields, first_day, last_day))

    def fulfil_conditions(
        self, granter: Actor, accreditation_id: UUID, valid_from: date, conditions: Sequence[tuple[str, date]]
    ) -> date | None:
        """Most conditions are met before their deadline; the deadline of the first one missed, if any."""
        missed = None
        for index, (_, deadline) in enumerate(conditions):
            if self.rng.random() < 0.85:
                met_on = self.day_between(valid_from + timedelta(days=60), deadline)
                self.registry.fulfil_accreditation_condition(
                    granter, accreditation_id, condition=index, effective=met_on
                )
            elif missed is None:
                missed = deadline
        return missed

    def withdraw_accreditation(self, granter: Actor, accreditation_id: UUID, reason: str, effective: date) -> None:
        self.registry.withdraw_accreditation(granter, accreditation_id, reason=reason, effective=effective)

    def suspend_accreditation(self, granter: Actor, accreditation_id: UUID, effective: date) -> None:
        reason = self.rng.choice(_ACCREDITATION_SUSPENSION_REASONS)
        self.registry.suspend_accreditation(granter, accreditation_id, reason=reason, effective=effective)
        if self.rng.random() < 0.6:
            reinstated_on = self.days_after(effective, 60, 240)
            self.registry.reinstate_accreditation(granter, accreditation_id, effective=reinstated_on)

    # 4. Micro-credentials and reviews ------------------------------------------------------

    def specify_microcredentials(self, count: int) -> None:
        """Every provider offers one before any offers a second; most lie inside their accreditation's scope."""
        offering = self.rng.sample(self.providers, len(self.providers))
        weights = [3 if p.profile.kind == ProviderType.HIGHER_EDUCATION else 1 for p in self.providers]
        offering += self.rng.choices(self.providers, weights, k=max(0, count - len(offering)))
        for provider in offering[:count]:
            cover = self.rng.choice(provider.covers)
            outside = self.outside_scope(cover) if self.rng.random() < 0.08 else None
            topic, eqf_level = outside or self.inside_scope(cover)
            qa_type = (
                QAType.EXTERNAL_PROGRAMME
                if outside
                else self.rng.choice((QAType.INTERNAL, QAType.EXTERNAL_INSTITUTIONAL))
            )
            elements = self.standard_elements(provider, topic, eqf_level, qa_type)
            microcredential_id = self.registry.specify_microcredential(
                provider.actor,
                provider_id=provider.id,
                # Before any issue window opens (none opens before ISSUING_FROM, whatever covers it).
                specified_on=ISSUING_FROM - timedelta(days=self.rng.randint(30, 400)),
                **elements,
            )
            microcredential = _MicroCredential(microcredential_id, provider, elements, cover.first_day, cover.last_day)
            self.microcredentials.append(microcredential)
            self.counts["microcredentials"] += 1
            if outside:
                decision = self.rng.choice((QADecision.POSITIVE, QADecision.POSITIVE_WITH_CONDITIONS))
                _, _, decided_on = self.review(microcredential, decision)
                microcredential.first_day = max(decided_on, ISSUING_FROM)
                microcredential.last_day = min(decided_on + DEFAULT_VALIDITY, ISSUING_UNTIL)

    def inside_scope(self, cover: _Cover) -> tuple[_Topic, int]:
        topic = self.rng.choice(
            [t for t in _TOPICS if cover.covers_field(t.isced_field) and set(t.eqf_levels) & set(cover.eqf_levels)]
        )
        return topic, self.rng.choice([level for level in topic.eqf_levels if level in cover.eqf_levels])

    def outside_scope(self, cover: _Cover) -> tuple[_Topic, int] | None:
        """A level just above or below the accreditation's, which needs a review of its own; None if there is none."""
        for level in (max(cover.eqf_levels) + 1, min(cover.eqf_levels) - 1):
            topics = [t for t in _TOPICS if cover.covers_field(t.isced_field) and level in t.eqf_levels]
            if topics and 4 <= level <= 8:
                return self.rng.choice(topics), level
        return None

    def standard_elements(self, provider: _Provider, topic: _Topic, eqf_level: int, qa_type: QAType) -> dict:
        rng = self.rng
        outcomes = rng.sample(topic.outcomes, rng.randint(2, min(4, len(topic.outcomes))))
        participation = rng.choices(list(Participation), (25, 40, 35))[0]
        stackability = rng.choices(list(Stackability), (50, 15, 35))[0]
        languages = ["en"] if provider.language == "ga" else [provider.language, "en"][: rng.randint(1, 2)]
        number = len(self.microcredentials) + 1
        return {
            "title": {lang: topic.titles[lang] for lang in ("en", provider.language) if lang in topic.titles},
            "learning_outcomes": [{"text": text, "esco_uri": _esco_uri(text)} for text in outcomes],
            "ects": rng.choices(("2", "3", "3.5", "4", "5", "6", "7.5", "10"), (8, 15, 6, 12, 20, 14, 5, 4))[0],
            "eqf_level": eqf_level,
            "isced_field": topic.isced_field,
            "assessment": rng.choice([a for a in AssessmentType if a != AssessmentType.NONE]),
            "participation": participation,
            "qa_type": qa_type,
            "languages": languages,
            "prerequisites": _PREREQUISITES.get(eqf_level),
            "supervision": rng.choice(_SUPERVISION[participation]),
            "stackability": stackability,
            "stackable_towards": f"{_PROGRAMMES[eqf_level]} at {provider.english_name}"
            if stackability == Stackability.STACKABLE
            else None,
            "further_information": f"https://{provider.slug}.example/micro-credentials/{topic.isced_field}-{number:03d}",
        }

    def review(self, microcredential: _MicroCredential, decision: QADecision) -> tuple[_Agency, UUID, date]:
        """An agency reviews the micro-credential from opening to decision: who, which review, decided when."""
        rng = self.rng
        agency = rng.choice([a for a in self.agencies if _MC in a.activities or _PROG in a.activities])
        opened_on = self.day_between(date(2019, 9, 1), date(2020, 12, 31))
        local_identifier = self.local_identifier(f"{agency.slug.upper()}-MC", opened_on.year)
        review_id = self.registry.open_review(
            agency.actor,
            microcredential_id=microcredential.id,
            local_identifier=local_identifier,
            opened_on=opened_on,
        )
        self.counts["reviews"] += 1
        published_on = self.days_after(opened_on, 60, 150)
        self.registry.publish_review_report(
            agency.actor,
            review_id,
            url=f"https://{agency.slug}.example/reports/{local_identifier.lower()}.pdf",
            summary=_REVIEW_SUMMARIES[decision].format(eqf=microcredential.eqf_level, ects=microcredential.ects),
            published_on=published_on,
        )
        decided_on = self.days_after(published_on, 14, 45)
        self.registry.decide_review(
            agency.actor,
            review_id,
            decision=decision,
            conditions=_REVIEW_CONDITIONS if decision == QADecision.POSITIVE_WITH_CONDITIONS else None,
            decided_on=decided_on,
        )
        return agency, review_id, decided_on

    def review_some_microcredentials(self) -> None:
        """Agencies also review a few micro-credentials that their providers' accreditations already cover.

        The first of these reviews ends negative and the provider wins its appeal; the second
        ends with conditions and the provider's appeal is dismissed; the others stand as decided.
        """
        inside = [m for m in self.microcredentials if m.elements["qa_type"] != QAType.EXTERNAL_PROGRAMME]
        chosen = self.rng.sample(inside, min(len(inside), max(3, len(self.microcredentials) // 8)))
        appealed = {
            0: (QADecision.NEGATIVE, AppealOutcome.OVERTURNED),
            1: (QADecision.POSITIVE_WITH_CONDITIONS, AppealOutcome.UPHELD),
        }
        for number, microcredential in enumerate(chosen):
            if number in appealed:
                decision, appeal = appealed[number]
                self.appeal_review(*self.review(microcredential, decision), appeal)
            else:
                self.review(microcredential, self.rng.choices(list(QADecision)[:3], (60, 25, 15))[0])

    def appeal_review(self, agency: _Agency, review_id: UUID, decided_on: date, outcome: AppealOutcome) -> None:
        lodged_on = self.days_after(decided_on, 10, 30)
        grounds = "The provider contests the panel's reading of the assessment evidence and submits further samples"
        self.registry.appeal_review(agency.actor, review_id, grounds=grounds, effective=lodged_on)
        self.counts["appeals"] += 1
        overturned = outcome == AppealOutcome.OVERTURNED
        self.registry.decide_review_appeal(
            agency.actor,
            review_id,
            outcome=outcome,
            decision=QADecision.POSITIVE_WITH_CONDITIONS if overturned else None,
            conditions=_REVIEW_CONDITIONS if overturned else None,
            decided_on=self.days_after(lodged_on, 30, 90),
        )

    # 5. Issuance ----------------------------------------------------------------------------

    def issue_credentials(
        self, total: int, batch_size: int, progress: Callable[[int], None]
    ) -> dict[str, list[_Issued]]:
        """Issue ``total`` credentials, provider by provider, in cohorts; those picked for a later fate."""
        shares = Counter(self.rng.choices(self.microcredentials, self.popularity(), k=total))
        fate_of = self.fates(total)
        fated: dict[str, list[_Issued]] = {"revoke": [], "suspend": [], "recognise": []}
        index = 0
        for provider in self.providers:
            cohorts = [c for m in self.microcredentials if m.provider is provider for c in self.cohorts(m, shares[m])]
            cohorts.sort(key=lambda cohort: cohort[1])
            rows = ((m, self.issue_row(m, day)) for m, day in cohorts)
            for batch in _batched(rows, batch_size):
                result = self.registry.issue_credentials(provider.actor, [row for _, row in batch], partial=False)
                for (microcredential, row), credential_id in zip(batch, result.issued, strict=True):
                    assert credential_id is not None  # a refused row fails the whole batch
                    if index in fate_of:
                        fated[fate_of[index]].append(_Issued(credential_id, microcredential, row.issued_on))
                    index += 1
                self.counts["credentials"] += len(batch)
                progress(len(batch))
        return fated

    def popularity(self) -> list[float]:
        """A few micro-credentials attract most learners."""
        return [self.rng.paretovariate(1.2) for _ in self.microcredentials]

    def fates(self, total: int) -> dict[int, str]:
        """Which credentials, by issuance order, are later revoked, suspended or recognised elsewhere."""
        kinds = {"revoke": REVOKED_SHARE, "suspend": SUSPENDED_SHARE, "recognise": RECOGNISED_SHARE}
        counts = {kind: round(total * share) for kind, share in kinds.items()}
        picked = iter(self.rng.sample(range(total), sum(counts.values())))
        return {next(picked): kind for kind, count in counts.items() for _ in range(count)}

    def cohorts(self, microcredential: _MicroCredential, count: int) -> Iterator[tuple[_MicroCredential, date]]:
        """``count`` issuances spread over a few cohort days, all inside the micro-credential's QA cover."""
        if not count:
            return
        days = sorted(self.cohort_day(microcredential) for _ in range(min(count, 2 + isqrt(count) // 3)))
        for day in self.rng.choices(days, k=count):
            microcredential.last_issued = max(day, microcredential.last_issued or day)
            yield microcredential, day

    def cohort_day(self, microcredential: _MicroCredential) -> date:
        """A weekday inside the micro-credential's QA cover, where the cover allows."""
        day = self.day_between(microcredential.first_day, microcredential.last_day)
        while day.weekday() >= 5 and day > microcredential.first_day:
            day -= timedelta(days=1)
        return day

    def issue_row(self, microcredential: _MicroCredential, issued_on: date) -> IssueRow:
        """A new learner each time, so the registry draws the learner id (and need not look it up)."""
        learner = self.learner(microcredential.provider, issued_on)
        graded = microcredential.elements["assessment"] in _GRADED and self.rng.random() < 0.7
        grade = self.rng.choice(_GRADES[microcredential.provider.country].split()) if graded else None
        return IssueRow(microcredential.id, learner, issued_on, grade=grade)

    def learner(self, provider: _Provider, issued_on: date) -> PersonalData:
        """Mostly from the provider's country, some from elsewhere in Europe."""
        rng = self.rng
        origin = provider.language if rng.random() < 0.7 else rng.choice(list(_NAMES))
        female, male, families = (names.split(", ") for names in _NAMES[origin])
        is_female = rng.random() < 0.5
        given = rng.choice(female if is_female else male)
        forms = rng.choice(families).split("/")
        family = forms[-1] if is_female else forms[0]
        age = 19 + min(45, int(rng.expovariate(1 / 9)))
        birth_date = issued_on - timedelta(days=365 * age + rng.randrange(365))
        email = f"{_ascii(given)}.{_ascii(family)}{rng.randrange(100)}@example.org".lower()
        return PersonalData(f"{given} {family}", birth_date, email)

    # 6. Afterwards -------------------------------------------------------------------------------

    def revise_and_retire_microcredentials(self) -> None:
        """Some providers revise a micro-credential; a few retire one after its last credential."""
        for microcredential in self.microcredentials:
            actor, draw = microcredential.provider.actor, self.rng.random()
            if draw < 0.05 and microcredential.last_issued:
                retired_on = self.days_after(microcredential.last_issued, 14, 120)
                self.registry.retire_microcredential(actor, microcredential.id, effective=retired_on)
            elif draw < 0.2:
                revised_on = self.days_after(microcredential.last_issued or microcredential.first_day, 14, 120)
                self.registry.revise_microcredential(
                    actor, microcredential.id, effective=revised_on, **self.revision(microcredential)
                )

    @staticmethod
    def revision(microcredential: _MicroCredential) -> dict:
        """The second edition moves between online and blended delivery; credentials issued so far keep edition one."""
        elements = dict(microcredential.elements)
        online = elements["participation"] == Participation.ONLINE
        elements["participation"] = Participation.BLENDED if online else Participation.ONLINE
        elements["supervision"] = Supervision.SUPERVISED_VERIFIED_ONLINE
        elements["further_information"] = f"{elements['further_information']}/edition-2"
        return elements

    def revoke_credentials(self, credentials: list[_Issued]) -> None:
        weights = [weight for _, _, weight in _REVOCATIONS]
        for credential in credentials:
            reason, note, _ = self.rng.choices(_REVOCATIONS, weights)[0]
            self.registry.revoke_credential(
                credential.microcredential.provider.actor,
                credential.id,
                reason=reason,
                note=note,
                effective=self.days_after(credential.issued_on, 7, 540),
            )
            self.counts["revoked"] += 1

    def suspend_credentials(self, credentials: list[_Issued]) -> None:
        """Most suspensions are lifted once the investigation clears the learner."""
        for credential in credentials:
            actor = credential.microcredential.provider.actor
            suspended_on = self.days_after(credential.issued_on, 14, 400)
            reason = self.rng.choice(_CREDENTIAL_SUSPENSIONS)
            self.registry.suspend_credential(actor, credential.id, reason=reason, effective=suspended_on)
            self.counts["suspended"] += 1
            if self.rng.random() < 0.6:
                reinstated_on = self.days_after(suspended_on, 14, 120)
                self.registry.reinstate_credential(actor, credential.id, effective=reinstated_on)

    def recognise_credentials(self, credentials: list[_Issued]) -> None:
        for credential in credentials:
            self.recognise(credential)

    def recognise(self, credential: _Issued) -> None:
        """An institution abroad recognises the credential, or part of it; some learners appeal or withdraw."""
        rng = self.rng
        issuer = credential.microcredential.provider
        abroad = [
            p for p in self.providers if p.country != issuer.country and p.profile.kind == ProviderType.HIGHER_EDUCATION
        ]
        institution = rng.choice(abroad).institution
        requested_on = self.days_after(credential.issued_on, 20, 600)
        recognition_id = self.registry.request_recognition(
            institution,
            credential_id=credential.id,
            institution_id=institution.org,
            purpose=rng.choices(list(RecognitionPurpose), (30, 55, 15))[0],
            requested_by=Requester.LEARNER if rng.random() < 0.85 else Requester.INSTITUTION,
            requested_on=requested_on,
        )
        self.counts["recognitions"] += 1
        if rng.random() < 0.06:
            if rng.random() < 0.5:
                self.registry.withdraw_recognition(
                    institution,
                    recognition_id,
                    reason="The learner withdrew the application",
                    effective=self.days_after(requested_on, 5, 60),
                )
            return
        outcome = rng.choices(list(RecognitionOutcome), (62, 18, 8, 12))[0]
        decided_on = self.days_after(requested_on, 10, 90)
        self.registry.decide_recognition(
            institution, recognition_id, decided_on=decided_on, **self.verdict(credential, outcome)
        )
        if outcome != RecognitionOutcome.RECOGNISED and rng.random() < 0.3:
            self.appeal_recognition(institution, recognition_id, credential, decided_on)

    def verdict(self, credential: _Issued, outcome: RecognitionOutcome) -> dict:
        """Full recognition carries every credit; anything less names substantial differences."""
        microcredential = credential.microcredential
        ects = microcredential.ects
        if outcome == RecognitionOutcome.RECOGNISED:
            return {"outcome": outcome, "ects_recognised": ects}
        if outcome == RecognitionOutcome.REFUSED:
            recognised = Decimal(0)
        else:  # a whole number of half credits, fewer than the credential carries
            recognised = Decimal(self.rng.randint(1, int(ects * 2) - 1)) / 2
        formatted = {
            "eqf": microcredential.eqf_level,
            "higher": min(8, microcredential.eqf_level + 1),
            "ects": ects,
            "more": ects + self.rng.choice((1, 2, 3)),
        }
        differences = [
            (difference.format(**formatted), reason.format(**formatted))
            for difference, reason in self.rng.sample(_DIFFERENCES, self.rng.randint(1, 2))
        ]
        return {"outcome": outcome, "ects_recognised": recognised, "differences": differences}

    def appeal_recognition(
        self, institution: Actor, recognition_id: UUID, credential: _Issued, decided_on: date
    ) -> None:
        """Most appeals are decided, some in the learner's favour; a few learners give up."""
        rng = self.rng
        lodged_on = self.days_after(decided_on, 7, 40)
        self.registry.appeal_recognition(
            institution, recognition_id, grounds=rng.choice(_APPEAL_GROUNDS), effective=lodged_on
        )
        self.counts["appeals"] += 1
        draw = rng.random()
        if draw < 0.1:
            self.registry.withdraw_recognition(
                institution,
                recognition_id,
                reason="The learner withdrew the appeal",
                effective=self.days_after(lodged_on, 5, 30),
            )
        elif draw < 0.5:
            new = self.verdict(credential, RecognitionOutcome.RECOGNISED)
            self.registry.decide_recognition_appeal(
                institution,
                recognition_id,
                outcome=AppealOutcome.OVERTURNED,
                recognition_outcome=new.pop("outcome"),
                decided_on=self.days_after(lodged_on, 20, 90),
                **new,
            )
        elif draw < 0.9:
            self.registry.decide_recognition_appeal(
                institution,
                recognition_id,
                outcome=AppealOutcome.UPHELD,
                decided_on=self.days_after(lodged_on, 20, 90),
            )


def _batched(items: Iterator[tuple[_MicroCredential, IssueRow]], size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _esco_uri(skill: str) -> str:
    """An ESCO-shaped skill URI, the same for the same skill (not a real ESCO concept)."""
    return f"http://data.europa.eu/esco/skill/{uuid5(NAMESPACE_URL, f'mcreg:demo:skill:{skill}')}"


_ASCII_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d"})


def _ascii(text: str) -> str:
    """Letters and digits only, accents dropped: for e-mail addresses and URL slugs."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_LETTERS))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())
