"""Messages of the page frame (templates/base.html) and of the error page."""

MESSAGES: dict[str, tuple[str, str]] = {
    "base.registry_name": ("服务认证证书公共查询", "Service Certificate Registry"),
    "base.skip_to_content": ("跳到正文", "Skip to content"),
    "base.language": ("语言", "Language"),
    "base.footer_open_data": ("开放数据与核验", "Open data and verification"),
    "base.footer_api": ("接口说明（OpenAPI）", "API description (OpenAPI)"),
    "base.footer_checkpoint": ("透明日志检查点", "Transparency log checkpoint"),
    "base.footer_keys": ("认证机构公钥（JWKS）", "Issuer public keys (JWKS)"),
    "base.footer_note": (
        "本站记录的每一版证书都经认证机构签名，并写入可公开核验的透明日志。",
        "Every certificate version shown here is signed by its issuer and written to a "
        "publicly verifiable transparency log.",
    ),
    "base.cst": ("北京时间", "China Standard Time"),
    "base.checked_at": ("查询时间：{time}", "Checked at {time}"),
    "error.title": ("出错了", "Something went wrong"),
    "error.status": ("错误 {status}", "Error {status}"),
    "error.code": ("错误代码：", "Error code: "),
    "error.back_home": ("返回首页重新查询", "Go back and search again"),
    "error.not_found": ("找不到该页面", "Page not found"),
    "error.rate_limited": (
        "查询过于频繁，请稍后再试",
        "Too many searches; please try again shortly",
    ),
    "error.unavailable": (
        "服务暂时繁忙，请稍后再试",
        "The service is busy; please try again shortly",
    ),
}
