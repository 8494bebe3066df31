"""Messages of the certificate page and the issuer chooser (templates/certificate.html,
choose_issuer.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "cert.caption": ("证书编号", "Certificate number"),
    "cert.verdict_label": ("证书状态", "Certificate status"),
    "cert.meaning_valid": (
        "该证书目前有效，有效期至 {date}。",
        "This certificate is valid now, until {date}.",
    ),
    "cert.meaning_suspended": (
        "该证书已被认证机构暂停。暂停期间不能作为有效证书使用。",
        "The certification body has suspended this certificate. While suspended it is not valid.",
    ),
    "cert.meaning_withdrawn": (
        "该证书已被认证机构撤销，不再有效。",
        "The certification body has withdrawn this certificate. It is no longer valid.",
    ),
    "cert.meaning_cancelled": (
        "该证书已注销，不再有效。",
        "This certificate has been cancelled. It is no longer valid.",
    ),
    "cert.meaning_expired": (
        "该证书已于 {date} 到期，不再有效。",
        "This certificate expired on {date}. It is no longer valid.",
    ),
    "cert.reason": ("原因：{reason}", "Reason: {reason}"),
    "cert.since": ("（自 {date} 起）", " (since {date})"),
    "cert.warn_heading": ("警告：", "Warning:"),
    "cert.warn_untrusted": (
        "签发此版本的密钥已被报告自 {time} 起泄露，而本站在此之后才收到此版本，"
        "它可能并非认证机构发布。请直接向认证机构核实。",
        "The key that signed this version was reported compromised from {time}, and the "
        "registry received this version after that, so it may not come from the certification "
        "body. Check with the certification body directly.",
    ),
    "cert.note_heading": ("注意：", "Note:"),
    "cert.warn_flagged": (
        "签发此版本的密钥后来被报告泄露；本站在报告的泄露时间之前已收到此版本。",
        "The key that signed this version was later reported compromised; the registry "
        "received this version before the reported time of compromise.",
    ),
    "cert.organisation": ("获证组织", "Certified organisation"),
    "cert.uscc": ("统一社会信用代码", "Unified social credit code"),
    "cert.scheme": ("认证项目", "Scheme"),
    "cert.tier": ("等级", "Tier"),
    "cert.score": ("评价得分", "Score"),
    "cert.score_value": ("{value} 分（满分 {scale} 分）", "{value} of {scale}"),
    "cert.scope": ("认证范围", "Scope"),
    "cert.issuer": ("认证机构", "Certification body"),
    "cert.dates": ("日期", "Dates"),
    "cert.issue_date": ("发证日期：{date}", "Issued: {date}"),
    "cert.expiry_date": ("有效期至：{date}", "Valid until: {date}"),
    "cert.original_issue_date": ("首次发证：{date}", "First issued: {date}"),
    "cert.surveillance": ("监督审核", "Surveillance audits"),
    "cert.surveillance_last": ("最近一次：{date}", "Last audit: {date}"),
    "cert.surveillance_next": ("下次应于：{date} 前", "Next due by: {date}"),
    "cert.surveillance_overdue": ("监督审核已逾期", "Surveillance audit overdue"),
    "cert.sites": ("认证覆盖的场所", "Sites covered"),
    "cert.at_heading": ("查询某一日期的状态", "Status on a date"),
    "cert.at_label": ("日期", "Date"),
    "cert.at_hint": (
        "例如招标日期，格式为 年-月-日，如 2025-06-30",
        "For example a tender date, as year-month-day, e.g. 2025-06-30",
    ),
    "cert.at_button": ("查询该日状态", "Check that day"),
    "cert.at_error": (
        "请按 年-月-日 格式输入日期，例如 2025-06-30。",
        "Enter the date as year-month-day, for example 2025-06-30.",
    ),
    "cert.at_status": ("{date} 当天的状态：", "Status on {date}:"),
    "cert.at_version": (
        "依据第 {version} 版记录（本站于 {time} 收到）。",
        "Based on version {version} (received by the registry at {time}).",
    ),
    "cert.at_not_issued": (
        "{date} 时该证书尚未颁发。",
        "The certificate had not been issued on {date}.",
    ),
    "cert.at_learned_later": (
        "本站是在该日之后才得知这一状态的。在 {date} 当天，本站的答复会是：",
        "The registry learned of this status after that day. On {date} it would have answered:",
    ),
    "cert.at_knew_nothing": (
        "在 {date} 当天，本站尚未收到该证书的任何记录。",
        "On {date} the registry had not yet received any record of this certificate.",
    ),
    "cert.at_future": (
        "该日期尚未到来：以上是按目前记录推算的状态，发证机构此后若暂停、撤销或换发证书，答复会随之改变。",
        "That day is still to come: this is the status the current record gives for it, which "
        "changes if the issuer later suspends, withdraws or renews the certificate.",
    ),
    "cert.at_known_then": (
        "本站在当天已掌握这一状态。",
        "The registry knew this status on that day.",
    ),
    "cert.history": ("历史记录", "History"),
    "cert.received_at": ("本站收到：{time}", "Received {time}"),
    "cert.version": ("第 {version} 版", "Version {version}"),
    "cert.effective_from": ("生效：{date}", "Effective {date}"),
    "cert.json_link": ("以 JSON 查看（开放接口）", "View as JSON (open API)"),
    "cert.history_link": ("全部已签名版本（JSON）", "All signed versions (JSON)"),
    "cert.qr_link": ("证书二维码标签（SVG）", "Certificate QR label (SVG)"),
    "choose.title": (
        "多个认证机构使用了编号 {number}",
        "Several certification bodies use number {number}",
    ),
    "choose.lead": (
        "请选择证书上印的认证机构：",
        "Choose the certification body printed on the certificate:",
    ),
}
