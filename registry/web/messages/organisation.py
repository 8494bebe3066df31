"""Messages of the organisation page (templates/organisation.html)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "org.caption": ("获证组织", "Certified organisation"),
    "org.former_names": ("曾用名", "Former names"),
    "org.certificates": ("证书（{count}）", "Certificates ({count})"),
    "org.none": (
        "本站暂无该组织的证书。",
        "The registry holds no certificates of this organisation.",
    ),
}
