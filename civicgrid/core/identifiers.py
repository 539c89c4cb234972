"""Chinese identifiers: validation, normalisation and masking for display.

* 居民身份证号 (resident identity card number, GB 11643-1999): 17 digits and a check character
  (ISO 7064 MOD 11-2, ``X`` for 10); digits 1–6 are the region of registration, 7–14 the birth
  date. Checked with ``stdnum.cn.ric``; the region is checked only at province level (the full
  county list in stdnum lags behind new districts and would reject real numbers).
* 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from
  ``0-9A-Z`` without I, O, S, V, Z, with a MOD 31 check character. Checked with ``stdnum.cn.uscc``.
* Mainland mobile numbers: 11 digits ``1[3-9]xxxxxxxxx``, optionally written with ``+86``/``0086``,
  spaces or hyphens.

``normalize_*`` return the normalised value or raise ``django.core.exceptions.ValidationError``
with a precise code; ``validate_*`` are the same checks as Django validators for model and
serializer fields. ``mask_*`` never raise: they are for display.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

# Province-level codes (GB/T 2260), plus 83 (Taiwan residents' residence permits) and 91
# (foreigners' permanent residence cards since 2023), which follow GB 11643 too.
_PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
_SEPARATORS = re.compile(r"[\s\-]")
_MOBILE = re.compile(r"1[3-9]\d{9}")

INVALID_LENGTH = "invalid_length"
INVALID_FORMAT = "invalid_format"
INVALID_CHECKSUM = "invalid_checksum"
INVALID_BIRTH_DATE = "invalid_birth_date"
INVALID_REGION = "invalid_region"


def _clean(value) -> str:
    if value is None:
        return ""
    return _SEPARATORS.sub("", str(value)).upper()


# --- 居民身份证号 ---------------------------------------------------------------------------------


def normalize_id_number(value) -> str:
    """The 18-character identity card number in upper case, or ``ValidationError``."""
    number = _clean(value)
    if len(number) != 18:
        raise ValidationError(
            _("An identity card number has 18 characters; this one has %(length)s."),
            code=INVALID_LENGTH,
            params={"length": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("An identity card number is 17 digits followed by a digit or X."), code=INVALID_FORMAT
        )
    if number[:2] not in _PROVINCE_CODES:
        raise ValidationError(
            _("The identity card number does not start with a known region code."), code=INVALID_REGION
        )
    try:
        birth = ric.get_birth_date(number)
    except StdnumValidationError:
        birth = None
    if birth is None or birth.year < 1880 or birth > timezone.localdate():
        raise ValidationError(
            _("The birth date in the identity card number (digits 7 to 14) is not a valid date."),
            code=INVALID_BIRTH_DATE,
        )
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError(
            _("The check character of the identity card number is wrong: the number is mistyped."),
            code=INVALID_CHECKSUM,
        )
    return number


def id_number_birth_date(value) -> datetime.date:
    """Birth date encoded in a valid identity card number."""
    return ric.get_birth_date(normalize_id_number(value))


# --- 统一社会信用代码 ------------------------------------------------------------------------------


def normalize_uscc(value) -> str:
    """The 18-character unified social credit code in upper case, or ``ValidationError``."""
    code = _clean(value)
    try:
        return uscc.validate(code)
    except InvalidLength:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(length)s."),
            code=INVALID_LENGTH,
            params={"length": len(code)},
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _("A unified social credit code is 8 digits followed by digits and capital letters "
              "other than I, O, S, V and Z."),
            code=INVALID_FORMAT,
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _("The check character of the unified social credit code is wrong: the code is mistyped."),
            code=INVALID_CHECKSUM,
        ) from None
    except StdnumValidationError:
        raise ValidationError(_("This is not a valid unified social credit code."), code=INVALID_FORMAT) from None


# --- mobile numbers -------------------------------------------------------------------------------


def normalize_mobile(value) -> str:
    """The 11-digit mainland mobile number, without country code, or ``ValidationError``."""
    number = _SEPARATORS.sub("", str(value or ""))
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    if not number.isdigit():
        raise ValidationError(
            _("A mobile number contains only digits (optionally after +86)."), code=INVALID_FORMAT
        )
    if len(number) != 11:
        raise ValidationError(
            _("A mobile number has 11 digits; this one has %(length)s."),
            code=INVALID_LENGTH,
            params={"length": len(number)},
        )
    if not _MOBILE.fullmatch(number):
        raise ValidationError(_("A mainland mobile number starts with 13 to 19."), code=INVALID_FORMAT)
    return number


# --- validators for fields --------------------------------------------------------------------------


def validate_id_number(value) -> None:
    normalize_id_number(value)


def validate_uscc(value) -> None:
    normalize_uscc(value)


def validate_mobile(value) -> None:
    normalize_mobile(value)


# --- masks for display ----------------------------------------------------------------------------

# Two-character surnames keep both characters (欧阳娜娜 → 欧阳**).
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 "
    "西门 百里 呼延 澹台 公冶 太史 申屠 闻人 万俟 赫连 濮阳 钟离 宗政 拓跋 第五 司空 东郭 "
    "左丘 梁丘 微生 羊舌 单于 公羊 谷梁 仲孙 叔孙 鲜于 闾丘 亓官 司寇 子车 颛孙 壤驷 漆雕 乐正".split()
)


def mask_id_number(value) -> str:
    """350203199001011234 → 350203********1234 (region kept, birth date and sequence hidden)."""
    text = _clean(value)
    if len(text) > 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return "*" * max(len(text) - 4, 0) + text[-4:] if len(text) > 4 else "*" * len(text)


def mask_phone(value) -> str:
    """13912341234 → 139****1234; other numbers keep their first 3 and last 4 characters."""
    try:
        text = normalize_mobile(value)
    except ValidationError:
        text = _SEPARATORS.sub("", str(value or ""))
    if len(text) > 7:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return "*" * len(text)


def mask_name(value) -> str:
    """张三 → 张*, 李小明 → 李**, 欧阳娜娜 → 欧阳** (the surname is kept, the given name hidden)."""
    text = str(value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    keep = 2 if len(text) > 2 and text[:2] in _COMPOUND_SURNAMES else 1
    return text[:keep] + "".join(" " if ch == " " else "*" for ch in text[keep:])
