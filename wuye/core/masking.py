"""Masking of personal data (个人信息保护法): show only what the reader needs."""


def mask_mobile(mobile: str | None) -> str:
    if not mobile:
        return ""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    if not id_number:
        return ""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"
