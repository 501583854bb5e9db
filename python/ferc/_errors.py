class Error(Exception):
    """A failure reported by libferc (or found before calling it): `message` is the C
    library's text, `status` ferc_status_name() of the status (e.g. "bad format"), `code` the
    number."""

    def __init__(self, message, status="bad argument", code=5):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code

    def __str__(self):
        return "%s (%s)" % (self.message, self.status)

    def __reduce__(self):  # picklable, so errors travel back from Dask workers
        return (type(self), (self.message, self.status, self.code))
