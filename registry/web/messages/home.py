"""Messages of the home page and the search box (templates/home.html, _macros.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "home.title": ("查询服务认证证书", "Check a service certificate"),
    "home.lead": (
        "查验售后服务认证（GB/T 27922-2011）和顾客满意认证（GB/T 19039-2009）证书是否有效。",
        "Check whether an after-sales service (GB/T 27922-2011) or customer satisfaction "
        "(GB/T 19039-2009) certificate is valid.",
    ),
    "home.search_label": (
        "证书编号、企业名称或统一社会信用代码",
        "Certificate number, organisation name or unified social credit code",
    ),
    "home.search_hint": (
        "例如 CQC-ASS-2024-000123、海川电器 或 91330100MA2H3B4C5X",
        "For example CQC-ASS-2024-000123, 海川电器 or 91330100MA2H3B4C5X",
    ),
    "home.search_button": ("查询", "Search"),
    "home.scan_hint": (
        "也可以用手机扫描产品标签上的证书二维码，直接查看查验结果。",
        "You can also scan the certificate QR code on a product label with your phone.",
    ),
    "home.what_heading": ("您可以查到", "What you can check"),
    "home.what_status": (
        "证书现在是否有效：有效、暂停、撤销、注销或过期",
        "Whether a certificate is valid now: valid, suspended, withdrawn, cancelled or expired",
    ),
    "home.what_history": (
        "证书的认证范围、等级、监督审核和每一次状态变更及原因",
        "Its scope, tier, surveillance audits, and every status change with its reason",
    ),
    "home.what_date": (
        "证书在某一日期（例如招标日期）是否有效",
        "Whether it was valid on a given date, such as a tender date",
    ),
    "home.trust_heading": ("为什么可以相信查询结果", "Why you can trust the answer"),
    "home.trust_text": (
        "每条证书记录都由认证机构用自己的密钥签名后发布到本站；本站核验签名，保留每一个版本，"
        "并把它们写入公开的透明日志，任何人都可以独立核验，本站也无法悄悄修改。",
        "Every certificate record is signed by its certification body with its own key. The "
        "registry checks the signature, keeps every version and writes it to a public "
        "transparency log that anyone can verify, so not even the registry can change it "
        "unnoticed.",
    ),
}
