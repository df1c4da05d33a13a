"""Property: whatever moves are tried, in whatever order, a complaint's version counts its
successful writes, its history counts them too, and a refused move changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu_complaints.workflow import DEFAULT_STAGES, TransitionRefused

STAGES = [s.key for s in DEFAULT_STAGES]
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "solution": st.sampled_from(["换新", "退款"]),
        "compensation_amount": st.sampled_from(["0", "300", "900"]),
        "satisfaction": st.sampled_from(["1", "5"]),
        "root_cause": st.just("漏检"),
        "corrective_action": st.just("复检"),
    },
)
MOVES = st.lists(
    st.tuples(
        st.sampled_from(STAGES), FIELDS, st.sampled_from([None, "原因"]), st.sampled_from(["王芳", "李娜"])
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=MOVES)
def test_versions_and_history_balance(app, h, moves):
    c = h.open_one(app, "2025-03-03 09:00", handler="王芳")
    ok = 0
    for n, (target, changes, reason, actor) in enumerate(moves):
        before = h.get(app, c.id)
        try:
            h.move(
                app,
                c.id,
                target,
                f"2025-03-{4 + n // 8:02d} {9 + n % 8:02d}:00",
                actor=actor,
                changes=changes,
                reason=reason,
            )
            ok += 1
        except TransitionRefused:
            after = h.get(app, c.id)
            assert (after.complaint, after.timeline) == (before.complaint, before.timeline)
    final = h.get(app, c.id)
    assert final.complaint.version == 1 + ok  # opened, then one per successful move
    assert sum(e.action == "moved" for e in final.timeline) == ok
    assert final.complaint.status in STAGES
