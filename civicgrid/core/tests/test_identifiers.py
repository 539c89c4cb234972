import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from rest_framework import serializers

from civicgrid.core.identifiers import (
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_mobile,
    normalize_uscc,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)


def code_of(func, value) -> str:
    with pytest.raises(ValidationError) as error:
        func(value)
    return error.value.code


# --- 居民身份证号 ------------------------------------------------------------------------------------


def test_valid_id_number_is_normalised():
    # given the GB 11643 test value written with a lower-case x and spaces
    # when / then
    assert normalize_id_number(" 110105 19491231 002x ") == "11010519491231002X"
    assert normalize_id_number("35020319900101123X") == "35020319900101123X"


def test_id_number_with_a_wrong_check_character_is_refused():
    # given the test value with its check character changed from X to 1
    assert code_of(normalize_id_number, "110105194912310021") == "invalid_checksum"
    # and with two digits swapped
    assert code_of(normalize_id_number, "11010519491213002X") == "invalid_checksum"


def test_id_number_of_the_wrong_length_is_refused():
    assert code_of(normalize_id_number, "11010519491231002") == "invalid_length"
    assert code_of(normalize_id_number, "110105491231002") == "invalid_length"  # 15-digit first generation
    assert code_of(normalize_id_number, "") == "invalid_length"


def test_id_number_with_letters_is_refused():
    assert code_of(normalize_id_number, "1101051949123100XX") == "invalid_format"
    assert code_of(normalize_id_number, "11010519491231002Y") == "invalid_format"


def test_id_number_with_an_impossible_or_future_birth_date_is_refused():
    # given numbers with correct check characters but born on 30 February 1949 / in 2099
    assert code_of(normalize_id_number, "110105194902300012") == "invalid_birth_date"
    assert code_of(normalize_id_number, "110105209912310029") == "invalid_birth_date"


def test_id_number_with_an_unknown_province_is_refused():
    # given a number whose region starts with 99, check character recomputed
    assert code_of(normalize_id_number, "990105194912310023") == "invalid_region"


# --- 统一社会信用代码 -------------------------------------------------------------------------------


def test_valid_uscc_is_normalised():
    assert normalize_uscc("91110000600037341l") == "91110000600037341L"
    assert normalize_uscc("9111 0000 6000 3734 1L") == "91110000600037341L"


def test_uscc_errors_have_precise_codes():
    assert code_of(normalize_uscc, "91110000600037341A") == "invalid_checksum"
    assert code_of(normalize_uscc, "91110000600037341") == "invalid_length"
    assert code_of(normalize_uscc, "9111000060003734IL") == "invalid_format"  # I is not in the alphabet
    assert code_of(normalize_uscc, "9A110000600037341L") == "invalid_format"


# --- mobile numbers ------------------------------------------------------------------------------


def test_mobile_numbers_are_normalised_without_country_code():
    assert normalize_mobile("13912341234") == "13912341234"
    assert normalize_mobile("+86 139-1234-1234") == "13912341234"
    assert normalize_mobile("0086 19912341234") == "19912341234"


def test_bad_mobile_numbers_have_precise_codes():
    assert code_of(normalize_mobile, "1391234123") == "invalid_length"
    assert code_of(normalize_mobile, "12912341234") == "invalid_format"  # 12x is no mobile prefix
    assert code_of(normalize_mobile, "0592-1234567") == "invalid_format"  # a landline
    assert code_of(normalize_mobile, "139 1234 12345") == "invalid_length"
    assert code_of(normalize_mobile, "139l2341234") == "invalid_format"


# --- messages and validators ---------------------------------------------------------------------


def test_messages_are_translated():
    # given the Chinese interface
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as error:
            normalize_id_number("110105194912310021")
    # then the message is Chinese
    assert "校验" in error.value.messages[0]


def test_validators_work_on_form_fields():
    # given a form using the three validators
    class PersonForm(forms.Form):
        id_number = forms.CharField(validators=[validate_id_number])
        credit_code = forms.CharField(validators=[validate_uscc])
        phone = forms.CharField(validators=[validate_mobile])

    # when a good and a bad form are validated
    good = PersonForm({"id_number": "11010519491231002X", "credit_code": "91110000600037341L", "phone": "13912341234"})
    bad = PersonForm({"id_number": "110105194912310021", "credit_code": "91110000600037341", "phone": "123"})
    # then
    assert good.is_valid()
    assert not bad.is_valid()
    codes = {field: [e.code for e in errors.as_data()] for field, errors in bad.errors.items()}
    assert codes == {"id_number": ["invalid_checksum"], "credit_code": ["invalid_length"], "phone": ["invalid_length"]}


def test_validators_work_on_serializer_fields():
    # given a DRF serializer using a validator
    class Serializer(serializers.Serializer):
        id_number = serializers.CharField(validators=[validate_id_number])

    # when
    serializer = Serializer(data={"id_number": "110105194902300012"})
    # then the field error carries the precise code
    assert not serializer.is_valid()
    assert serializer.errors["id_number"][0].code == "invalid_birth_date"


# --- masks ---------------------------------------------------------------------------------------


def test_masks():
    assert mask_id_number("350203199001011234") == "350203********1234"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_phone("13912341234") == "139****1234"
    assert mask_phone("+86 139 1234 1234") == "139****1234"
    assert mask_name("张三") == "张*"
    assert mask_name("李小明") == "李**"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("欧阳") == "欧*"
    assert mask_name("") == "" and mask_phone("") == "" and mask_id_number(None) == ""
