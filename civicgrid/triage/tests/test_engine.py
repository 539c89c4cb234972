"""The text model on its own: features, fast path, probabilities, storage."""

from pathlib import Path

import numpy as np
from django.conf import settings

from civicgrid.triage import engine

CORPUS = [
    ("小区门口的井盖不见了，晚上很危险", 1), ("路边井盖破损，差点崴脚", 1), ("下水道盖子被偷了", 1),
    ("楼下垃圾堆了好几天没人清理，臭死了", 2), ("路边有人乱扔垃圾", 2), ("垃圾桶满了溢出来", 2),
    ("楼上装修噪音太大，中午都不停", 3), ("广场舞音响太吵了，晚上睡不着", 3), ("KTV半夜唱歌扰民", 3),
]


def _model():
    return engine.fit([t for t, _ in CORPUS], [y for _, y in CORPUS])


def test_numbers_and_width_do_not_matter():
    # when normalizing a text with full-width characters and house numbers
    # then numbers become 0 and full-width letters half-width lower case
    assert engine.normalize("湖滨南路１２３号  ＡＢ") == "湖滨南路0号 ab"


def test_a_model_predicts_the_category_of_unseen_words_and_ranks_the_rest():
    # given a model fitted on a few reports of three categories
    model = _model()
    # when it reads new phrasings
    best = [model.top_k([text], 3)[0] for text in ("井盖没了", "垃圾没人清理", "隔壁噪音吵得睡不着")]
    # then each text's best category is the right one, with three ranked labels summing to ≤ 1
    assert [b[0][0] for b in best] == [1, 2, 3]
    for ranked in best:
        probabilities = [p for _label, p in ranked]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0.99 <= sum(probabilities) <= 1.0001


def test_the_one_text_fast_path_gives_the_batch_answer():
    # given a model
    model = _model()
    for text in ("井盖破了", "楼下垃圾很臭", "晚上太吵", "毫无关系的一句话", ""):
        # when one text is scored on the fast path and in a batch
        # then both give the same scores
        assert np.allclose(model.one_scores(text), model.scores([text])[0], atol=1e-5)


def test_a_model_survives_storage():
    # given a model, dumped and loaded again
    model = _model()
    again = engine.TextModel.loads(model.dumps())
    # then the loaded model answers the same
    assert again.top_k(["垃圾堆在路边"], 3) == model.top_k(["垃圾堆在路边"], 3)


def test_the_scale_is_fitted_on_held_out_texts_and_evaluation_counts_hits():
    # given a model and held-out texts
    model = _model()
    texts, labels = ["井盖丢了", "垃圾没人收", "装修太吵"], [1, 2, 3]
    # when fitting the softmax scale and evaluating
    scale = engine.fit_scale(model, texts, labels)
    result = engine.evaluate(model, texts, labels, {1: "a", 2: "b", 3: "b"})
    # then the scale is one of the grid's and every text is a hit, counted per group
    assert 1 <= scale <= 40
    assert (result.top1, result.top3, result.examples) == (1.0, 1.0, 3)
    assert result.per_group == {"a": {"examples": 1, "top1": 1.0, "top3": 1.0},
                                "b": {"examples": 2, "top1": 1.0, "top3": 1.0}}


def test_jieba_keeps_its_cache_under_var_and_initializes_once():
    # when the tokenizer is asked for twice
    first, second = engine.tokenizer(), engine.tokenizer()
    # then it is one tokenizer whose cache lives under var/
    assert first is second
    assert Path(first.tmp_dir).resolve().is_relative_to(Path(settings.VAR_DIR).resolve())
