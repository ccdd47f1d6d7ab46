"""What a service prints on its console, once OpenTelemetry is set up."""

import logging

from common.log_summary import SummariseRepeats

# The console's log lines, once logs go through OpenTelemetry (section 2): with the ids
# of the trace and span they were written in.
CONSOLE_LOG_FORMAT = (
    "%(asctime)s %(levelname)s [%(name)s] [trace_id=%(otelTraceID)s span_id=%(otelSpanID)s]"
    " %(message)s"
)


def keep_sdk_messages_on_the_console() -> None:
    """The SDK's own complaints ("failed to export to ...") go to the console only.

    Sent through a failing exporter they would come back as more complaints. Its retries
    are routine; report only what it gives up on. With no collector it gives up on
    every batch: show the first failure, then one a minute with a count.
    """
    sdk_console = logging.StreamHandler()
    sdk_console.addFilter(SummariseRepeats())
    sdk_logger = logging.getLogger("opentelemetry")
    sdk_logger.propagate = False
    sdk_logger.addHandler(sdk_console)
    sdk_logger.setLevel(logging.ERROR)
