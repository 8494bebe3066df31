"""Messages of the search results page (templates/search.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "search.title": ("查询结果", "Search results"),
    "search.filters": ("筛选", "Filters"),
    "search.status": ("证书状态", "Status"),
    "search.scheme": ("认证项目", "Scheme"),
    "search.tier": ("等级", "Tier"),
    "search.issuer": ("认证机构", "Certification body"),
    "search.any": ("不限", "Any"),
    "search.apply": ("应用筛选", "Apply filters"),
    "search.uscc_invalid": (
        "这不是有效的统一社会信用代码。",
        "This is not a valid unified social credit code.",
    ),
    "search.did_you_mean": ("您要找的是否为 {suggestion}？", "Did you mean {suggestion}?"),
    "search.matched_former_name": ("曾用名相符：{name}", "Matched former name: {name}"),
    "search.error": ("无法按此条件查询。", "This search cannot be run as asked."),
    "search.none_number": (
        "按证书编号查不到？查看各认证机构最近一次向本站发布的时间",
        "Number not found? See when each certification body last published here",
    ),
    "search.pages": ("翻页", "Pages"),
    "search.next_page": ("下一页 →", "Next page →"),
    "search.none": ("没有找到与“{text}”相符的证书。", "No certificates match “{text}”."),
    "search.none_hint": (
        "请核对输入。按企业名称查询时，输入名称中的一两个字即可。",
        "Check what you typed. For an organisation name, one or two of its characters are enough.",
    ),
}
