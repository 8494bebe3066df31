"""Messages of the scan page and its report form (templates/scan.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "scan.title": ("扫码验证", "Label check"),
    "scan.caption": ("扫码验证结果", "Label check result"),
    # Verdict headlines and explanations.
    "scan.genuine": ("真实标签 · 证书有效", "Genuine label · certificate valid"),
    "scan.genuine_text": (
        "此标签由认证机构签发，与本站登记的证书一致，证书目前有效，有效期至 {date}。",
        "This label was signed by the certification body, matches the certificate registered "
        "here, and the certificate is valid until {date}.",
    ),
    "scan.not_valid": ("真实标签 · 证书{status}", "Genuine label · certificate {status}"),
    "scan.not_valid_text": (
        "此标签由认证机构签发，但证书目前不是有效状态，不能作为有效认证的证明。",
        "This label was signed by the certification body, but the certificate is not valid "
        "now and is no proof of certification.",
    ),
    "scan.expired_text": (
        "此标签由认证机构签发，但证书已于 {date} 到期。",
        "This label was signed by the certification body, but the certificate expired on {date}.",
    ),
    "scan.reason": ("原因：{reason}", "Reason: {reason}"),
    "scan.since": ("生效日期：{date}", "Effective: {date}"),
    "scan.mismatch": ("标签与登记信息不符", "Label does not match the registry"),
    "scan.mismatch_text": (
        "此标签上的签名属于认证机构，但标签内容与本站登记的证书不一致：可能是复制或篡改的标签，"
        "也可能是证书换发前的旧标签。请以下方登记信息为准。",
        "The signature on this label belongs to the certification body, but what the label "
        "says differs from the registered certificate: it may be copied or altered, or an old "
        "label from before a renewal. Rely on the registered details below.",
    ),
    "scan.counterfeit": ("假冒标签", "Counterfeit label"),
    "scan.counterfeit_text": (
        "此标签的签名无效，或签名密钥不属于本站登记的任何认证机构。不要相信此标签。",
        "This label's signature is invalid, or its key belongs to no certification body "
        "registered here. Do not trust this label.",
    ),
    "scan.counterfeit_key_text": (
        "签发此标签的密钥在标签签发时已失效（已泄露或已停用）。不要相信此标签。",
        "The key that signed this label was no longer valid when the label says it was signed "
        "(compromised or retired). Do not trust this label.",
    ),
    "scan.malformed_text": (
        "这不是有效的验证码：内容残缺或被改动。不要相信此标签。",
        "This is not a valid label code: it is incomplete or has been altered. Do not trust "
        "this label.",
    ),
    "scan.not_found": ("本站未登记此证书", "Certificate not in the registry"),
    "scan.not_found_text": (
        "此标签由认证机构签发，但本站没有该证书的登记。认证机构可能尚未上传，"
        "请向认证机构核实后再相信此标签。",
        "This label was signed by the certification body, but the certificate is not registered "
        "here. The body may not have uploaded it yet: check with it before trusting the label.",
    ),
    "scan.key_warning_heading": ("注意：", "Note:"),
    "scan.key_warning": (
        "签发此标签的密钥后来被报告自 {time} 起泄露；此标签声称签发于此之前。"
        "请直接向认证机构核实。",
        "The key that signed this label was later reported compromised from {time}; the label "
        "says it was signed before that. Check with the certification body directly.",
    ),
    # Differences between the label and the registry.
    "scan.differences": ("不一致之处", "What differs"),
    "scan.diff_record": (
        "标签对应的证书版本不在本站记录中",
        "The label belongs to no certificate version recorded here",
    ),
    "scan.diff_scheme": (
        "认证项目：标签为 {label}，登记为 {registry}",
        "Scheme: label {label}, registry {registry}",
    ),
    "scan.diff_tier": (
        "等级：标签为 {label}，登记为 {registry}",
        "Tier: label {label}, registry {registry}",
    ),
    "scan.diff_expiry": (
        "有效期至：标签为 {label}，登记为 {registry}",
        "Valid until: label {label}, registry {registry}",
    ),
    # The facts.
    "scan.compare": (
        "请核对产品、商家与下列登记信息是否一致。",
        "Compare the product and the seller with the registered details below.",
    ),
    "scan.registered": ("本站登记信息", "Registered details"),
    "scan.label_says": ("标签声称", "What the label claims"),
    "scan.label_unverified": (
        "以下内容来自标签本身，未经验证。",
        "These come from the label itself and are not verified.",
    ),
    "scan.certificate_number": ("证书编号", "Certificate number"),
    "scan.organisation": ("获证组织", "Certified organisation"),
    "scan.scope": ("认证范围", "Scope"),
    "scan.scheme": ("认证项目", "Scheme"),
    "scan.tier": ("等级", "Tier"),
    "scan.issuer": ("认证机构", "Certification body"),
    "scan.expiry": ("有效期至", "Valid until"),
    "scan.status": ("证书状态", "Certificate status"),
    "scan.details_link": ("查看证书详情与历史", "Certificate details and history"),
    "scan.unknown_code": ("未知代码 {code}", "unknown code {code}"),
    # The report form.
    "scan.report_heading": ("举报此标签", "Report this label"),
    "scan.report_intro": (
        "如果此标签可疑，请告诉认证机构。无需登录，本站不记录您的 IP 地址。",
        "If this label looks wrong, tell the certification body. No login; the registry does "
        "not record your IP address.",
    ),
    "scan.report_reason": ("原因", "Reason"),
    "scan.reason_looks_fake": ("标签看起来是假的", "The label looks fake"),
    "scan.reason_details_differ": (
        "产品或商家与登记信息不符",
        "The product or seller differs from the registered details",
    ),
    "scan.reason_seller_claims": (
        "商家的宣传与证书不符",
        "The seller claims more than the certificate",
    ),
    "scan.reason_other": ("其他", "Other"),
    "scan.report_details": ("补充说明（可选）", "Details (optional)"),
    "scan.report_details_hint": ("最多 {max} 字", "At most {max} characters"),
    "scan.report_place": ("购买地点（可选）", "Where you bought it (optional)"),
    "scan.report_place_hint": (
        "如商店名称或网店链接",
        "E.g. a shop's name or an online shop's link",
    ),
    "scan.report_submit": ("提交举报", "Send report"),
    "scan.report_sent": (
        "谢谢，举报已转给认证机构。",
        "Thank you: your report has been passed to the certification body.",
    ),
    "scan.report_error": ("请检查：{field}", "Please check: {field}"),
    "scan.field_reason": ("原因", "reason"),
    "scan.field_details": ("补充说明", "details"),
    "scan.field_place": ("购买地点", "place of purchase"),
    "scan.field_token": (
        "此标签未指明在本站登记的认证机构，无法转交",
        "this label names no certification body registered here, so there is nobody to tell",
    ),
}
