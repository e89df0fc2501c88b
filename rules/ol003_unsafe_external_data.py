from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class UnsafeExternalData(Rule):
    """An external-data reference that could read outside the model's folder or lies about its size.

    What it checks
        Every tensor stored as external data (initializers, tensor attributes, subgraphs,
        functions): the location must be relative, without `..`, absolute paths or symlinks,
        name a regular file with a single hard link, and its offset/length must lie inside the
        file and match dims × dtype size. In-memory address markers are refused. The file is
        only stat'ed, never opened.

    Why it matters
        A hostile model can make a runtime read any file on the machine (`../../etc/passwd`, a
        symlink, a hard link) or map memory addresses; a wrong length means corrupted weights.

    Example
        An initializer whose location is `../secrets/key.bin`.

    What to do
        Re-save the model with `onnx.save(model, path, save_as_external_data=True)` so every
        weight file sits next to the model, or do not deploy a model from an untrusted source.
    """
    code = "OL003"
    name = "unsafe-external-data"
    severity = Severity.ERROR
    summary = "an external-data reference points outside the model folder, through a link, or out of bounds"

    def check_model(self, ctx):
        for problem in ctx.unsafe_external:
            if "is missing beside the model" in problem:  # not unsafe: absent
                yield self.report(f"{problem}: the weights cannot be read",
                                  suggestion="copy the weight file next to the model (or `git lfs pull` it)")
                continue
            yield self.report(f"unsafe external data: {problem}; the file was not opened",
                              suggestion="re-save the model with its weight files beside it")
