"""``classify`` and ``classify_many``: the cold start on first use, departments, batches."""

from civicgrid.triage import services
from civicgrid.triage.models import ClassifierModel, ModelSource
from civicgrid.triage.tests.conftest import GRID


def test_with_no_model_the_first_call_fits_stores_and_activates_a_cold_start(taxonomy):
    # given no stored model
    assert not ClassifierModel.objects.exists()
    # when a text is classified
    predictions = services.classify("我家小区门口的井盖被人偷了，晚上走路很危险")
    # then a cold-start model learnt from the names and keywords is stored, active, and right
    stored = ClassifierModel.objects.get()
    assert (stored.source, stored.is_active, stored.version, stored.cases) == (ModelSource.COLD_START, True, 1, 0)
    assert stored.examples > len(taxonomy) and stored.payload_bytes == len(bytes(stored.payload)) > 0
    assert [(p.kind, p.code) for p in predictions][0] == ("component", "01001")
    assert len(predictions) == 3 and predictions[0].confidence >= predictions[1].confidence >= predictions[2].confidence
    # and a second call uses the stored model instead of fitting another
    services.forget()
    services.classify("路灯不亮")
    assert ClassifierModel.objects.count() == 1


def test_with_a_place_each_prediction_names_the_department_the_matrix_sends_it_to(taxonomy, city):
    # when classifying at a grid of 集美区 (the matrix sends everything to city management)
    predictions = services.classify("楼下垃圾堆了一个星期没人清", region_code=GRID)
    # then the best is 暴露垃圾 and each would go to 集美区城管执法局
    assert predictions[0].name == "暴露垃圾"
    assert {(p.lead_kind, p.department_id) for p in predictions} == {("city_management", city.city_management.pk)}
    # and without a place only the department kind is known
    assert {p.department_id for p in services.classify("楼下垃圾堆了一个星期没人清")} == {None}


def test_classify_many_answers_each_text_in_order(taxonomy):
    # given texts of several categories and an empty one
    texts = ["路灯坏了一排，黑漆漆的", "", "车停在人行道上堵门口", "楼上装修噪音吵得睡不着"] * 50
    # when classified in one batch
    results = services.classify_many(texts, k=2)
    # then each text has its best two (id, confidence), best first, the empty one none
    names = {c.pk: c.name for c in taxonomy.values()}
    assert len(results) == len(texts) and results[1] == []
    assert [names[r[0][0]] for r in results[:4] if r] == ["路灯不亮", "违章停车", "噪声扰民"]
    assert all(len(r) == 2 and r[0][1] >= r[1][1] for i, r in enumerate(results) if texts[i])
    # and the batch agrees with the one-text service
    assert results[0][0][0] == services.classify(texts[0])[0].category_id


def test_without_categories_nothing_is_predicted(db):
    # given an empty taxonomy
    # then there is nothing to choose from and nothing is stored
    assert services.classify("井盖没了") == []
    assert services.classify_many(["井盖没了"]) == [[]]
    assert not ClassifierModel.objects.exists()
