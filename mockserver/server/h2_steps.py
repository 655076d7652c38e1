"""h2's state machine steps, looked up without hashing an Enum.

h2 finds a transition of a stream's or the connection's state machine by a dict keyed by
(state, input), and a plain ``Enum`` member hashes itself in Python (``Enum.__hash__``): with
the ``isinstance`` check before, that was about a microsecond per step, and a gRPC call takes
a dozen steps. Here each input's transitions are laid out by state once (a stream state is an
``IntEnum``, a list index; a connection state's ``_value_`` an int), taken from h2's own tables,
and a step does what h2's ``process_input`` does: the same function, the same target state, the
same state left behind when the function refuses. An input with no transition from the
current state goes to h2's ``process_input``, which refuses it as h2 does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from h2.connection import ConnectionInputs, ConnectionState, H2ConnectionStateMachine
from h2.events import Event
from h2.exceptions import ProtocolError
from h2.stream import H2StreamStateMachine, StreamInputs, StreamState, _transitions

StreamSteps = list[tuple[Callable[..., list[Event]] | None, StreamState] | None]
ConnectionSteps = dict[int, ConnectionState]


def stream_steps(input_: StreamInputs) -> tuple[StreamInputs, StreamSteps]:
    """``input_`` and its transitions from each stream state (None: h2 refuses it)."""
    return input_, [_transitions.get((state, input_)) for state in StreamState]


def connection_steps(input_: ConnectionInputs) -> tuple[ConnectionInputs, ConnectionSteps]:
    """``input_`` and the state it leads to from each connection state, by the state's value;
    a state with no transition, or with a function to call (h2 has none), is left out."""
    steps = {}
    for state in ConnectionState:
        step = H2ConnectionStateMachine._transitions.get((state, input_))
        if step is not None and step[0] is None:
            steps[state._value_] = step[1]
    return input_, steps


def advance(machine: H2StreamStateMachine, steps: tuple[StreamInputs, StreamSteps]) -> Any:
    """h2's ``H2StreamStateMachine.process_input`` of the input of ``steps``."""
    input_, by_state = steps
    step = by_state[machine.state]
    if step is None:
        return machine.process_input(input_)  # h2's refusal, as h2 words it
    func, target = step
    previous = machine.state
    machine.state = target
    if func is None:
        return []
    try:
        return func(machine, previous)
    except ProtocolError:
        machine.state = StreamState.CLOSED
        raise
    except AssertionError as exc:
        machine.state = StreamState.CLOSED
        raise ProtocolError(exc) from exc


def advance_connection(
    machine: H2ConnectionStateMachine, steps: tuple[ConnectionInputs, ConnectionSteps]
) -> list[Event]:
    """h2's ``H2ConnectionStateMachine.process_input`` of the input of ``steps``."""
    input_, by_state = steps
    target = by_state.get(machine.state._value_)
    if target is None:
        return machine.process_input(input_)
    machine.state = target
    return []


SEND_HEADERS: Final = stream_steps(StreamInputs.SEND_HEADERS)
SEND_DATA: Final = stream_steps(StreamInputs.SEND_DATA)
SEND_END_STREAM: Final = stream_steps(StreamInputs.SEND_END_STREAM)
RECV_HEADERS: Final = stream_steps(StreamInputs.RECV_HEADERS)
RECV_DATA: Final = stream_steps(StreamInputs.RECV_DATA)
RECV_END_STREAM: Final = stream_steps(StreamInputs.RECV_END_STREAM)

CONNECTION_SEND_HEADERS: Final = connection_steps(ConnectionInputs.SEND_HEADERS)
CONNECTION_SEND_DATA: Final = connection_steps(ConnectionInputs.SEND_DATA)
CONNECTION_RECV_HEADERS: Final = connection_steps(ConnectionInputs.RECV_HEADERS)
CONNECTION_RECV_DATA: Final = connection_steps(ConnectionInputs.RECV_DATA)
CONNECTION_RECV_WINDOW_UPDATE: Final = connection_steps(ConnectionInputs.RECV_WINDOW_UPDATE)
CONNECTION_RECV_PING: Final = connection_steps(ConnectionInputs.RECV_PING)
