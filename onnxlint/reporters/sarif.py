def render(reports, **_options):
    raise NotImplementedError
