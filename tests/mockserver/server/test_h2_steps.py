"""h2_steps advances h2's state machines exactly as h2's ``process_input`` does.

Every input from every state (and, for a stream, every combination of the fields a step's
function reads): the same events, the same state and fields after, the same refusal.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from h2.connection import ConnectionInputs, ConnectionState, H2ConnectionStateMachine
from h2.exceptions import ProtocolError
from h2.stream import H2StreamStateMachine, StreamInputs, StreamState

from zitadel_mock.server import h2_steps
from zitadel_mock.server.h2_steps import advance, advance_connection


def outcome(call: Any, machine: Any) -> Any:
    try:
        result: Any = [(type(e).__name__, sorted(vars(e).items())) for e in call()]
    except ProtocolError as exc:
        result = (type(exc).__name__, str(exc))
    return result, dict(vars(machine))


FLAGS = list(itertools.product([None, True, False], [None, True], [None, True]))


def stream_machine(state: StreamState, flags: tuple[Any, Any, Any]) -> H2StreamStateMachine:
    machine = H2StreamStateMachine(7)
    machine.state = state
    machine.client, machine.headers_sent, machine.headers_received = flags
    machine.trailers_sent = machine.trailers_received = None
    return machine


@pytest.mark.parametrize("input_", list(StreamInputs), ids=lambda i: i.name)
def test_a_stream_step_is_h2s_from_every_state(input_: StreamInputs) -> None:
    steps = h2_steps.stream_steps(input_)
    for state, flags in itertools.product(StreamState, FLAGS):
        theirs, ours = stream_machine(state, flags), stream_machine(state, flags)
        expected = outcome(lambda: theirs.process_input(input_), theirs)  # noqa: B023
        assert outcome(lambda: advance(ours, steps), ours) == expected, (state, flags)  # noqa: B023


@pytest.mark.parametrize("input_", list(ConnectionInputs), ids=lambda i: i.name)
def test_a_connection_step_is_h2s_from_every_state(input_: ConnectionInputs) -> None:
    steps = h2_steps.connection_steps(input_)
    for state in ConnectionState:
        theirs, ours = H2ConnectionStateMachine(), H2ConnectionStateMachine()
        theirs.state = ours.state = state
        expected = outcome(lambda: theirs.process_input(input_), theirs)  # noqa: B023
        assert outcome(lambda: advance_connection(ours, steps), ours) == expected, state  # noqa: B023


def test_a_step_table_of_another_input_is_caught() -> None:
    """The comparison has teeth: RECV_DATA's table used for RECV_HEADERS differs somewhere."""
    wrong = (StreamInputs.RECV_HEADERS, h2_steps.RECV_DATA[1])
    differs = False
    for state, flags in itertools.product(StreamState, FLAGS):
        theirs, ours = stream_machine(state, flags), stream_machine(state, flags)
        expected = outcome(lambda: theirs.process_input(StreamInputs.RECV_HEADERS), theirs)  # noqa: B023
        differs |= outcome(lambda: advance(ours, wrong), ours) != expected  # noqa: B023
    assert differs
