"""The C++ backend (placeholder until the kernel lands)."""


class CppBackend:
    name = "cpp"

    @staticmethod
    def unavailable_reason() -> str | None:
        return "the C++ kernel is not implemented yet"
