"""A stand-in for zun.common.exception, for interop tests on machines
without Zun installed: same module path, class names and constructor shape
(message=None, **kwargs with `code`), so oslo.messaging's client re-raises a
remote Zun failure as the matching class, exactly as in a Zun deployment.
"""


class ZunException(Exception):
    message = "An unknown exception occurred."
    code = 500

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if "code" not in self.kwargs:
            self.kwargs["code"] = self.code
        self.code = self.kwargs["code"]
        if message is None:
            try:
                message = self.message % kwargs
            except Exception:
                message = self.message
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message


class Invalid(ZunException):
    message = "Unacceptable parameters."
    code = 400


class NotFound(ZunException):
    message = "Resource could not be found."
    code = 404


class Conflict(ZunException):
    message = "Conflict."
    code = 409


class ContainerNotFound(NotFound):
    message = "Container %(container)s could not be found."


class ImageNotFound(NotFound):
    message = "Image %(image)s could not be found."
