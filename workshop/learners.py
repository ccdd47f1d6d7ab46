"""Room mode: who a learner is, in their telemetry and in the platform's queries.

In room mode one facilitator runs the platform and every learner sends to it. Each
learner names themselves, `LEARNER=ada make run`, and the name travels as the Resource
attribute `service.namespace`, which Prometheus shows as the label `service_namespace`.
Outside room mode there is no name and no namespace.
"""

import os
import re

from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAMESPACE

VARIABLE = "LEARNER"
ATTRIBUTE = SERVICE_NAMESPACE  # "service.namespace": OpenTelemetry's group of services
LABEL = "service_namespace"  # the same attribute, as Prometheus names its label

# A label value on every series, and a part of every query: short, and made of characters
# that need no quoting in PromQL, LogQL or TraceQL, nor escaping in a regex.
NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
RULE = "1 to 32 lowercase letters, digits or hyphens, starting with a letter (say ada or grace-h)"


class LearnerNameError(ValueError):
    """A LEARNER that is not a usable name; the message says what would be."""


def learner(environ=os.environ) -> str | None:
    """The learner's name from LEARNER, or None outside room mode (LEARNER unset or empty)."""
    name = environ.get(VARIABLE, "").strip()
    if not name:
        return None
    if not NAME.fullmatch(name):
        shown = repr(name[:40] + ("..." if len(name) > 40 else ""))  # repr: no control chars
        raise LearnerNameError(f"{VARIABLE}={shown} is not a learner name: use {RULE}.")
    return name


def with_namespace(environ: dict[str, str]) -> dict[str, str]:
    """The environment, with the learner's name added to OTEL_RESOURCE_ATTRIBUTES.

    The SDK reads that variable when it builds the Resource (Resource.create()), so the
    name reaches every span, metric and log record, whatever the state of the code.
    """
    name = learner(environ)
    if name is None:
        return dict(environ)
    given = environ.get("OTEL_RESOURCE_ATTRIBUTES", "").strip().strip(",")
    attributes = f"{given},{ATTRIBUTE}={name}" if given else f"{ATTRIBUTE}={name}"
    return {**environ, "OTEL_RESOURCE_ATTRIBUTES": attributes}


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def only_theirs(promql: str, name: str) -> str:
    """The query, or a bare metric name, limited to one learner's series.

    In PromQL a `{` only ever opens the label matchers of a selector (the workshop's label
    values hold none), so the learner's matcher goes first after each one.
    """
    matcher = f'{LABEL}="{name}"'
    if METRIC_NAME.fullmatch(promql):
        return f"{promql}{{{matcher}}}"
    return promql.replace("{", f"{{{matcher}, ")
