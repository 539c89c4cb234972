"""The seeded configuration of dispute mediation (types, joint-mediation matrix, signal weights,
escalation words). Plain tables; the data migration and the tests read them."""

# code, name, governance category code (taxonomy), position
TYPES = [
    ("marriage_family", "婚姻家庭", "91001"),
    ("neighbour", "邻里", "91002"),
    ("property", "物业", "91003"),
    ("labour", "劳动/劳资", "91004"),
    ("land_forest", "土地/山林", "91005"),
    ("contract_debt", "合同/债务", "91006"),
    ("medical", "医疗", "91007"),
    ("consumer", "消费", "91008"),
    ("land_acquisition", "征地拆迁", "91009"),
    ("taiwan_foreign", "涉台涉外", "91010"),
    ("other", "其他", "91099"),
]

# type code → (lead kind, assisting kinds): the place-independent rows of the joint-mediation matrix.
JOINT_MATRIX = {
    "marriage_family": ("police_station", ["judicial_office", "court", "womens_federation"]),
    "neighbour": ("residents_committee", ["judicial_office", "police_station"]),
    "property": ("residents_committee", ["housing", "judicial_office"]),
    "labour": ("human_resources", ["judicial_office", "street_office"]),
    "land_forest": ("natural_resources", ["judicial_office", "street_office"]),
    "contract_debt": ("judicial_office", ["court"]),
    "medical": ("health", ["judicial_office", "police_station"]),
    "consumer": ("market_regulation", ["judicial_office"]),
    "land_acquisition": ("street_office", ["natural_resources", "housing", "judicial_office"]),
    "taiwan_foreign": ("judicial_office", ["police_station"]),
    "other": ("judicial_office", ["residents_committee"]),
}

WEIGHTS = {
    "repeat_parties": 3,
    "repeat_address": 2,
    "many_parties": 3,
    "mediation_failed": 3,
    "deadline_passed": 2,
    "escalation_words": 4,
    "type_history": 1,
}

WORDS = ["扬言", "极端", "上访", "聚集", "自杀", "跳楼", "报复", "同归于尽", "拼命", "堵路"]


def load_defaults(apps=None) -> None:
    """Create the seeded lists where missing (the data migration, and tests whose database was
    flushed). ``apps``: a migration's app registry, or the project's."""
    if apps is None:
        from django.apps import apps
    DisputeType = apps.get_model("disputes", "DisputeType")
    JointMediationRule = apps.get_model("disputes", "JointMediationRule")
    RiskSignalWeight = apps.get_model("disputes", "RiskSignalWeight")
    EscalationWord = apps.get_model("disputes", "EscalationWord")
    for position, (code, name, category) in enumerate(TYPES):
        dispute_type, _ = DisputeType.objects.get_or_create(
            code=code, defaults={"name": name, "category_code": category, "position": position},
        )
        lead, assisting = JOINT_MATRIX[code]
        JointMediationRule.objects.get_or_create(
            dispute_type=dispute_type, region_prefix="", defaults={"lead_kind": lead, "assisting_kinds": assisting},
        )
    for signal, weight in WEIGHTS.items():
        RiskSignalWeight.objects.get_or_create(signal=signal, defaults={"weight": weight})
    for word in WORDS:
        EscalationWord.objects.get_or_create(word=word)
