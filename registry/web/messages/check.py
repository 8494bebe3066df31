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
    "check.key_warning": (
        "警告：该证书的签名密钥已被标记为泄露。",
        "Warning: the key that signed this certificate has been marked compromised.",
    ),
    "check.not_found": ("未找到", "Not found"),
    "check.invalid": ("无效的查询", "Invalid query"),
    "check.again": ("再核验一批", "Check another list"),
}
