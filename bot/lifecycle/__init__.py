"""Around the interview: what Slotbot does before, on and after a booked time.

When a callback changes a booking, `plan.plan_timers` asks each planner (one module each,
listed in `plan.PLANNERS`) which timers the change sets, moves or cancels; the timers are
written with the callback's own write, so an accepted callback never loses them. Who is on
the panel is `panel.interviewers`.
"""
