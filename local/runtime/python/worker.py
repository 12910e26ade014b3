"""
One warm Lambda instance of a Python function: loads the handler once, at start (the init phase), then runs one
invocation at a time on messages from the invoker (local/runtime/instance.ts). The same protocol as worker.cjs,
over the Node.js IPC channel the invoker opened (JSON, one message per line, on the fd in NODE_CHANNEL_FD):

out: {"type": "ready"} once the handler is loaded | {"type": "initError", "errorType", "errorMessage"} if it cannot be
in:  {"type": "invoke", "id", "event", "context": {"awsRequestId", "deadlineMs", "functionName", ...}}
out: {"type": "result", "id", "json"} | {"type": "error", "id", "errorType", "errorMessage", "stackTrace"}

Errors are named and worded as the Lambda Python runtime names them (Runtime.ImportModuleError,
Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, Runtime.MarshalError; a handler's exception by its class
name) and logged as it logs them: `[ERROR] Type: message` and the traceback, on stderr (the function's log).
"""
import decimal
import importlib
import json
import os
import sys
import time
import traceback

CHANNEL_FD = int(os.environ.pop("NODE_CHANNEL_FD", "-1"))
os.environ.pop("NODE_CHANNEL_SERIALIZATION_MODE", None)
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
HANDLER = os.environ.get("_HANDLER", "")


class Fault(Exception):
    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


def send(message):
    data = (json.dumps(message) + "\n").encode("utf-8")
    while data:
        written = os.write(CHANNEL_FD, data)
        data = data[written:]


def stack_of(tb):
    """The traceback's frames in the form of the runtime's stackTrace entries, without the runtime's own frames."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename != __file__ and not f.filename.startswith("<frozen")]
    return traceback.format_list(frames)


def log_error(error_type, message, stack):
    lines = ["[ERROR] %s: %s" % (error_type, message)]
    if stack:
        lines.append("Traceback (most recent call last):")
        lines.extend(entry.rstrip("\n") for entry in stack)
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    if not modname or not fname:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': expected module.function, e.g. index.handler" % handler)
    if TASK_ROOT not in sys.path:
        sys.path.insert(0, TASK_ROOT)
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % modname)
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        stack = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, (e.text or "").strip())]
        raise Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), stack)
    handler_fn = getattr(module, fname, None)
    if handler_fn is None:
        raise Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return handler_fn


class LambdaContext:
    def __init__(self, c):
        self.aws_request_id = c.get("awsRequestId")
        self.function_name = c.get("functionName")
        self.function_version = "$LATEST"
        self.invoked_function_arn = c.get("invokedFunctionArn")
        self.memory_limit_in_mb = str(c.get("memoryLimitInMB"))
        self.log_group_name = c.get("logGroupName")
        self.log_stream_name = c.get("logStreamName")
        self.identity = None
        self.client_context = None
        self._deadline_ms = c.get("deadlineMs") or 0

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,memory_limit_in_mb=%s])" % (
            self.aws_request_id, self.function_name, self.memory_limit_in_mb)


class Encoder(json.JSONEncoder):
    """As the runtime marshals results: Decimals (DynamoDB numbers from boto3) become numbers."""

    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def invoke(handler_fn, message):
    request_id = message.get("id")
    try:
        value = handler_fn(message.get("event"), LambdaContext(message.get("context") or {}))
    except Exception as e:  # noqa: BLE001 - every handler exception is the invocation's error
        error_type = type(e).__name__
        stack = stack_of(e.__traceback__)
        log_error(error_type, str(e), stack)
        send({"type": "error", "id": request_id, "errorType": error_type, "errorMessage": str(e), "stackTrace": stack})
        return
    try:
        text = json.dumps(value, cls=Encoder)
    except (TypeError, ValueError) as e:
        log_error("Runtime.MarshalError", "Unable to marshal response: %s" % e, [])
        send({"type": "error", "id": request_id, "errorType": "Runtime.MarshalError",
              "errorMessage": "Unable to marshal response: %s" % e})
        return
    send({"type": "result", "id": request_id, "json": text})


def messages():
    buffered = b""
    while True:
        chunk = os.read(CHANNEL_FD, 65536)
        if not chunk:
            return
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def main():
    if CHANNEL_FD < 0:
        sys.stderr.write("worker.py runs under the wsgate emulator (no NODE_CHANNEL_FD)\n")
        return 2
    init_error = None
    try:
        handler_fn = load_handler(HANDLER)
    except Fault as fault:
        init_error = (fault.error_type, fault.message, fault.stack)
    except Exception as e:  # noqa: BLE001 - an exception raised while the module loads
        init_error = (type(e).__name__, str(e), stack_of(e.__traceback__))
    if init_error:
        error_type, message, stack = init_error
        log_error(error_type, message, stack)
        send({"type": "initError", "errorType": error_type, "errorMessage": message, "stackTrace": stack})
    else:
        send({"type": "ready"})
    for message in messages():
        if not isinstance(message, dict) or message.get("type") != "invoke":
            continue
        if init_error:
            send({"type": "error", "id": message.get("id"), "errorType": init_error[0], "errorMessage": init_error[1], "fatal": True})
            continue
        invoke(handler_fn, message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
