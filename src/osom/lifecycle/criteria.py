"""The criteria every organisation starts with (model 5.2): the common set, the
technical set, and one for each doctrine pattern. Names echo points of the UK
Government Service Standard; the meanings are ours."""

from __future__ import annotations

ALL_STAGES = ["discovery", "alpha", "beta", "live"]
BUILDING = ["alpha", "beta", "live"]

# (name, meaning, stages it suits by default)
COMMON: list[tuple[str, str, list[str]]] = [
    ("Understand users and their needs",
     "The team knows who the users are and has evidence of what they need, from research with real and future consumers.", ALL_STAGES),
    ("Solve a whole problem for users with the network",
     "The service meets a whole need, composing other services of the network rather than rebuilding what they already offer.", ALL_STAGES),
    ("Make the service simple to use",
     "People can use it first time, without help, and the team tests this with them.", BUILDING),
    ("Provide a joined-up experience across channels",
     "Online, by phone, on paper or through another service, users meet one coherent service.", BUILDING),
    ("Create a secure service that protects users' privacy",
     "Threats are understood, data is minimised and protected, and users can trust it with what they share.", BUILDING),
    ("Build the right team",
     "The team has the skills this stage needs — more research early, more building in alpha and beta — and a manager who is empowered to decide.", ALL_STAGES),
    ("Use appropriate methods",
     "The way of working suits the service's evolution and stage; the team can say why it works the way it does.", ALL_STAGES),
    ("Use appropriate standards",
     "Where something is industrialised, the service uses its standard rather than inventing its own.", BUILDING),
    ("Operate a reliable service",
     "The service is available when its users need it, failures are planned for, and the team learns from each one.", ["beta", "live"]),
    ("Apply guidance well",
     "The service follows published guidance where it fits, and can account for each piece of guidance it rejected.", ALL_STAGES),
]

TECHNICAL: list[tuple[str, str, list[str]]] = [
    ("Choose the right tools and technology",
     "Choices of tools and technology fit the problem and its evolution, and can be changed without starting again.", BUILDING),
    ("Make new source code open",
     "Code written for the service is published openly unless there is a clear reason not to.", BUILDING),
    ("Use and contribute to open standards, common components and patterns",
     "The service builds on what is shared — in the network and outside it — and gives back what it improves.", BUILDING),
]
