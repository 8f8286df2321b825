"""The forty doctrine patterns (model section 9): Wardley's doctrine table, by group and
phase. This is the one place they are written down; the database is filled from here,
and assessment criteria and self-assessments refer to the rows."""

from __future__ import annotations

__all__ = ["GROUPS", "PHASES", "PATTERNS"]

GROUPS = ["communication", "development", "operation", "structure", "learning", "leading"]

PHASES = {
    1: "Stop self-harm",
    2: "Become more context aware",
    3: "Better for less",
    4: "Continuously evolving",
}

# (group, phase, name, meaning)
PATTERNS: list[tuple[str, int, str, str]] = [
    ("communication", 1, "Use a common language", "Words mean the same thing to everyone who works together."),
    ("communication", 1, "Challenge assumptions", "Anyone may say openly, and with reasons, that something is wrong."),
    ("communication", 1, "Focus on high situational awareness", "Understand the landscape before acting on a proposal."),
    ("communication", 2, "Be transparent", "Share what you do so others can question it."),
    ("development", 1, "Know your users", "List who the users are."),
    ("development", 1, "Focus on user needs", "Meet our needs by meeting theirs, balancing conflicting ones."),
    ("development", 1, "Remove bias and duplication", "Don't build the same thing twice, nor custom-build a commodity."),
    ("development", 1, "Use appropriate methods", "Agile, lean, six sigma… each where it fits; no single method everywhere."),
    ("development", 2, "Think FIRE (fast, inexpensive, restrained, elegant)", "Small, cheap, simple components, built quickly, or not built at all."),
    ("development", 2, "Focus on the outcome, not a contract", "Judge by what is achieved, whoever achieves it."),
    ("development", 2, "Be pragmatic", "Reuse what exists rather than perfect it."),
    ("development", 2, "Use standards where appropriate", "Where something is industrialised, use its standard."),
    ("development", 2, "Use appropriate tools", "Mapping, modelling, logging: the right tool for the job."),
    ("operation", 1, "Think small (know the details)", "Break large landscapes into small services and look inside."),
    ("operation", 2, "Manage inertia", "Question “this is how we have always done it”."),
    ("operation", 2, "Effectiveness over efficiency", "Replace what does not work instead of polishing it."),
    ("operation", 2, "Manage failure", "Know failure modes; design for them; test by introducing failure."),
    ("operation", 3, "Optimise flow", "Remove bottlenecks between users and their needs being met."),
    ("operation", 3, "Do better with less", "Improve continuously, cost included."),
    ("operation", 3, "Set exceptional standards", "Aim for the very best achievable."),
    ("structure", 2, "Think small teams", "Team size fits the task: 3–5 exploring, 10–12 building, more for commodity."),
    ("structure", 2, "Distribute power and decision making", "Decisions sit with those closest to them."),
    ("structure", 2, "Think aptitude and attitude", "Skills and the culture that fits the work's evolution both matter."),
    ("structure", 3, "Provide purpose, mastery and autonomy", "Teams own what they do and know how it fits the whole."),
    ("structure", 3, "Seek the best", "Find, grow and keep the best people."),
    ("structure", 4, "Design for constant evolution", "Work moves through the organisation; team make-up changes over time."),
    ("structure", 4, "There is no one culture", "Pioneers, settlers and town planners need different approaches."),
    ("learning", 1, "Use a systematic mechanism of learning", "Build in mechanisms that compel improvement (the CoE process is one)."),
    ("learning", 2, "A bias towards action", "Learn by doing and by feedback."),
    ("learning", 3, "A bias towards the new", "Be curious, experiment, take measured risks."),
    ("learning", 4, "Listen to your ecosystems", "The ecosystems we build sense change early."),
    ("leading", 2, "Move fast", "An imperfect plan today beats a perfect one tomorrow."),
    ("leading", 2, "Strategy is iterative, not linear", "Set a direction and adapt as you learn."),
    ("leading", 3, "Be the owner", "Take responsibility for the environment and your actions."),
    ("leading", 3, "Think big", "Inspire others with purpose and direction."),
    ("leading", 3, "Strategy is complex", "Embrace uncertainty; preparation over plans."),
    ("leading", 3, "Commit to the direction, be adaptive along the path", "Don't abandon a direction at the first obstacle."),
    ("leading", 3, "Be humble", "Listen, act selflessly, don't believe your own hype."),
    ("leading", 4, "There is no core", "Everything is transient; what is core now won't be later."),
    ("leading", 4, "Exploit the landscape", "Use force multipliers to make the right moves at the right time."),
]

assert len(PATTERNS) == 40
