"""One error base for the streaming edge; subclasses also inherit the builtin they refine."""


class StreamsError(Exception):
    """Base of every error raised by ``streams``."""


class BrokerError(StreamsError, RuntimeError):
    """The broker could not be started, reached or administered."""


class BrokerUnreachableError(BrokerError):
    """The broker did not answer in time: it may be starting, overloaded or frozen; trying again can help."""


class ConfigurationError(StreamsError, ValueError):
    """Settings or command-line options that cannot work together."""


class StateCorruptError(StreamsError, ValueError):
    """A stored state record cannot be decoded: its bytes are not what this version wrote."""
