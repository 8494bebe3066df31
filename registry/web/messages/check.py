"""Strings of the bulk-check pages (procurement: many certificates as of a tender date)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "check.title": ("批量核验", "Bulk check"),
    "check.home_link": (
        "招标核验：一次核验多家投标人的证书并取得签名回执",
        "For tenders: check many bidders' certificates at once and keep a signed receipt",
    ),
    "check.lead": (
        "一次核验多张证书在某一日期（如招标日）的状态，并取得本站签名的核验回执，代替截图。",
        "Check many certificates as of one date (such as a tender date) and keep a receipt "
        "signed by the registry instead of a screenshot.",
    ),
    "check.error": ("无法核验", "Cannot check"),
    "check.queries_label": ("证书编号或统一社会信用代码", "Certificate numbers or USCCs"),
    "check.queries_hint": (
        "每行一个，最多 500 行；同一编号有多家机构使用时，可在编号后加空格和认证机构编号。",
        "One per line, up to 500; if two issuers use a number, add a space and the issuer id.",
    ),
    "check.as_of_label": ("核验日期", "As of"),
    "check.as_of_hint": ("留空为今天", "Leave empty for today"),
    "check.submit": ("核验并生成回执", "Check and sign a receipt"),
    "check.receipt_heading": ("核验回执", "The receipt"),
    "check.receipt_text": (
        "回执列出每项查询的结果、所依据的证书版本及其在透明日志中的位置，由本站私钥签名，"
        "任何人都可以用公开的本站公钥离线核验。",
        "The receipt lists every answer, the certificate version it rests on and its place in "
        "the transparency log, signed by the registry; anyone can verify it offline with the "
        "registry's published key.",
    ),
    "check.result_title": ("核验结果", "Check results"),
    "check.as_of": ("核验日期：{date}", "As of {date}"),
    "check.download": ("下载签名回执（JSON）", "Download the signed receipt (JSON)"),
    "check.receipt_id": ("回执编号 {id}", "Receipt {id}"),
    "check.checked_at": ("核验时间 {time}", "Checked at {time}"),
    "check.on_date": ("（{date} 当日）", "(on {date})"),
    "check.not_issued": ("当日尚未发证", "Not yet issued that day"),
    "check.learned_later": (
        "注意：本站于 {since} 才收到此状态；当日查询会显示为此前的状态。",
        "Note: the registry learned of this status only at {since}; a check on that day "
        "would have shown the earlier status.",
    ),
    "check.knew_nothing": (
        "注意：在 {date} 当天，本站尚未收到该证书的任何记录；当日查询会显示为未找到。"
        "本站于 {since} 收到。",
        "Note: on {date} the registry had not yet received any record of this certificate; a "
        "check on that day would have found nothing. The registry received it at {since}.",
    ),
    "check.not_found_text": (
        "本站没有该编号或信用代码的证书。请核对输入；证书若刚颁发，发证机构可能尚未发布。",
        "No certificate with this number or code in this registry. Check what you typed; a "
        "certificate issued very recently may not be published yet.",
    ),
    "check.invalid_text": (
        "这不是证书编号或统一社会信用代码（代码的校验位不符，可能有字符输错）。",
        "Not a certificate number or a USCC (the code's check character does not fit: a "
        "character may be mistyped).",
    ),
    "check.error_empty": (
        "请至少输入一个证书编号或统一社会信用代码。",
        "Enter at least one certificate number or USCC.",
    ),
    "check.error_too_many": (
        "一次最多核验 {count} 条。",
        "At most {count} lines can be checked at once.",
    ),
    "check.error_query": (
        "每行最多 {count} 个可打印字符。",
        "Each line holds at most {count} printable characters.",
    ),
    "check.key_warning": (
        "警告：该证书的签名密钥已被标记为泄露。",
        "Warning: the key that signed this certificate has been marked compromised.",
    ),
    "check.not_found": ("未找到", "Not found"),
    "check.invalid": ("无效的查询", "Invalid query"),
    "check.again": ("再核验一批", "Check another list"),
}
