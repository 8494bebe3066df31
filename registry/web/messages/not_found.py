"""Messages of the honest "not found" page (templates/not_found.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "notfound.title": ("未找到", "Not found"),
    "notfound.certificate": (
        "本站没有编号为 {number} 的证书",
        "There is no certificate numbered {number} in this registry",
    ),
    "notfound.organisation": (
        "本站没有统一社会信用代码为 {uscc} 的组织",
        "There is no organisation with unified social credit code {uscc} in this registry",
    ),
    "notfound.uscc_invalid": (
        "这不是一个有效的统一社会信用代码。",
        "This is not a valid unified social credit code.",
    ),
    "notfound.uscc_expected": (
        "按校验规则，第 18 位应为 {char}，请核对是否输错。",
        "By its check rule the 18th character should be {char}; please check for a typo.",
    ),
    "notfound.check_typing": (
        "请先核对输入是否与证书上印的完全一致。",
        "First check that you typed it exactly as printed on the certificate.",
    ),
    "notfound.why_heading": ("查不到意味着什么", "What “not found” can mean"),
    "notfound.why_text": (
        "查不到有两种可能：证书是伪造的，或者认证机构尚未把它上传到本站。"
        "下表列出向本站发布证书的认证机构及其最近一次发布的时间。"
        "如果证书的发证日期晚于该机构最近一次发布的时间，它可能只是尚未上传，请向认证机构核实；"
        "如果早于该时间，这张证书很可能不是真的。",
        "Either the certificate is fake, or its certification body has not uploaded it yet. "
        "The table lists the certification bodies that publish here and when each last "
        "published. If the certificate was issued after that time, it may simply not be "
        "uploaded yet: check with the certification body. If it was issued before, the "
        "certificate is probably not genuine.",
    ),
    "notfound.publishers_heading": (
        "向本站发布证书的认证机构",
        "Certification bodies that publish here",
    ),
    "notfound.issuer": ("认证机构", "Certification body"),
    "notfound.last_push": ("最近一次发布", "Last published"),
    "notfound.count": ("证书数量", "Certificates"),
    "notfound.never": ("尚未发布", "Not yet"),
    "notfound.no_publishers": (
        "目前还没有认证机构向本站发布证书。",
        "No certification body publishes here yet.",
    ),
    "notfound.search_again": ("重新查询", "Search again"),
}
