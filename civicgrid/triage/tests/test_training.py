"""Learning from dispatchers: which cases are labels, confirmations and corrections, versions,
activation only when not worse, and the scheduled retrain."""

import pytest
from django.conf import settings as django_settings

from civicgrid.cases import actions as case_actions
from civicgrid.triage import actions, training
from civicgrid.triage.models import ClassifierModel, ModelSource
from civicgrid.triage.tasks import retrain_classifier_task

PHRASES = {
    ("component", "01001"): ["井盖不见了", "下水道盖子被偷了", "井盖破了个洞", "窨井盖松动踩上去响", "路中间井盖塌陷",
                             "井盖缺失很危险"],
    ("matter", "06010"): ["垃圾堆了好几天没人清", "路边乱扔垃圾", "垃圾发臭招苍蝇", "建筑垃圾倒在绿化带",
                          "垃圾桶满了溢出来", "一堆生活垃圾没人管"],
    ("matter", "09009"): ["车停在人行道上", "乱停车堵住小区门口", "消防通道被车占了", "违停车辆挡路",
                          "货车天天占道停车", "门口停满车进不去"],
    ("governance", "94005"): ["楼上装修噪音太大", "广场舞音响太吵", "半夜KTV唱歌扰民", "工地晚上施工吵得睡不着",
                              "烧烤店吵到凌晨", "邻居天天放音乐很吵"],
    ("matter", "01023"): ["路灯坏了一排", "晚上路灯不亮黑漆漆", "小区外面没有路灯", "路灯一闪一闪的",
                          "整条路的灯都不亮", "路灯白天亮晚上不亮"],
}
PLACES = ["集美大道", "杏林湾路", "侨英路", "乐海路"]


def _file_cases(report, city, taxonomy, wrong=False, only_training_split=False):
    """Every phrase at every place reported without a category and filed by the dispatcher (with
    ``wrong``: training-split cases filed under the next category, as a careless dispatcher would)."""
    keys = list(PHRASES)
    made = []
    for n, key in enumerate(keys):
        for phrase in PHRASES[key]:
            for place in PLACES:
                case = report(title=phrase, description=f"{place}{phrase}，请处理")
                heldout = training.is_heldout(case.pk)
                chosen = keys[(n + 1) % len(keys)] if wrong and not heldout else key
                if only_training_split and heldout:
                    chosen = key
                made.append(case_actions.file_case(case, city.dispatcher, category=taxonomy[chosen]))
    return made


@pytest.fixture
def never_applied(at_intake):
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 1.01
    return at_intake


def test_labels_are_people_s_decisions_and_corrections_are_told_from_confirmations(taxonomy, report, city,
                                                                                    at_intake):
    # given a dispatcher confirming one prediction and correcting another
    confirmed = report(title="井盖没了", description="门口井盖缺失")
    corrected = report(title="井盖旁边垃圾", description="井盖上堆满了垃圾")
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 1.01
    cover, rubbish = taxonomy[("component", "01001")], taxonomy[("matter", "06010")]
    predicted = corrected.triage_prediction.top[0]["category"]
    assert predicted == cover.pk
    case_actions.file_case(confirmed, city.dispatcher, category=cover)
    case_actions.file_case(corrected, city.dispatcher, category=rubbish)
    # and two auto-dispatch filings: one of the classifier's own guess, one of a reporter's choice
    for category in (cover, rubbish):
        category.auto_dispatch = True
        category.save()
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 0.3
    guessed = report(title="井盖没了", description="下水道盖子被偷了")
    chosen = report(title="垃圾", description="路边垃圾", category=rubbish)
    assert guessed.triage_prediction.applied and guessed.state == chosen.state == "dispatched"
    # when the labels are collected
    examples = {e.case_id: e for e in training.confirmed_examples({c.pk for c in taxonomy.values()})}
    # then the confirmation counts once, the correction double, the reporter's choice once, and
    # the classifier's unconfirmed guess not at all
    assert set(examples) == {confirmed.pk, corrected.pk, chosen.pk}
    assert (examples[confirmed.pk].corrected, examples[confirmed.pk].weight) == (False, 1.0)
    assert (examples[corrected.pk].corrected, examples[corrected.pk].weight) == (True, training.CORRECTION_WEIGHT)
    assert examples[corrected.pk].category_id == rubbish.pk
    assert examples[chosen.pk].weight == 1.0


def test_a_new_version_is_activated_only_when_not_worse_or_forced(taxonomy, report, city, never_applied):
    # given a cold start and a history of correctly filed cases
    actions.ensure_cold_start()
    _file_cases(report, city, taxonomy)
    # when training
    first = actions.train_classifier()
    # then version 2 is stored with held-out figures and replaces the cold start
    assert first.activated and first.model.version == 2 and first.model.source == ModelSource.TRAINED
    assert first.model.heldout_examples > 0 and first.model.top1 >= 0.8 and first.model.top3 >= first.model.top1
    assert first.model.cases > 0 and set(first.model.per_major) and ClassifierModel.objects.get(is_active=True).version == 2
    # when a careless period files the same reports under wrong categories and training runs again
    _file_cases(report, city, taxonomy, wrong=True)
    second = actions.train_classifier()
    # then version 3 is stored, measured worse on the same held-out cases, and not activated
    assert second.model.version == 3 and not second.activated
    assert second.model.top1 < second.active_top1
    assert ClassifierModel.objects.get(is_active=True).version == 2
    # and the schedule does not retrain the same cases every hour because the version lost
    assert actions.retrain_if_due() is None
    # and forcing activates a version whatever its figures
    forced = actions.train_classifier(force=True)
    assert forced.activated and ClassifierModel.objects.get(is_active=True).version == 4


def test_the_scheduled_retrain_runs_only_when_enough_is_new(taxonomy, report, city, never_applied, settings):
    # given the schedule entry and a trained model
    assert django_settings.CELERY_BEAT_SCHEDULE["retrain-classifier"]["task"] == \
        "civicgrid.triage.tasks.retrain_classifier_task"
    settings.CIVICGRID_CLASSIFIER_RETRAIN_MIN_NEW = 5
    assert retrain_classifier_task() == {"trained": False}  # no filed case yet: nothing to learn
    cases = _file_cases(report, city, taxonomy)
    trained = retrain_classifier_task()
    assert trained["trained"] and trained["activated"]
    # when it runs again with nothing new, then it does nothing
    assert retrain_classifier_task() == {"trained": False}
    # when fewer than the minimum new filings arrived, then still nothing
    for phrase in PHRASES[("matter", "06010")][:4]:
        case_actions.file_case(report(title=phrase), city.dispatcher, category=taxonomy[("matter", "06010")])
    assert retrain_classifier_task() == {"trained": False}
    # when the minimum is reached, then a new version is trained
    case_actions.file_case(report(title="垃圾"), city.dispatcher, category=taxonomy[("matter", "06010")])
    again = retrain_classifier_task()
    assert again["trained"] and again["version"] == trained["version"] + 1
    assert len(cases) == 120
