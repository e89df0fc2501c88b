"""Human units: K/M/G for counts, KiB/MiB/GiB for bytes."""


def count(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)


def nbytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def shape(dims) -> str:
    if dims is None:
        return "?"
    return "×".join("?" if d is None else str(d) for d in dims)
