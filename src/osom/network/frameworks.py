"""The professional framework team members' roles come from: job families and roles
of the UK Digital, Data and Technology (DDaT) framework, by name."""

DDAT_ROLES: dict[str, list[str]] = {
    "Architecture": ["Data architect", "Enterprise architect", "Network architect", "Security architect", "Solution architect", "Technical architect"],
    "Chief digital and data": ["Chief data officer", "Chief digital information officer", "Chief technology officer"],
    "Data": ["Analytics engineer", "Data analyst", "Data engineer", "Data scientist", "Performance analyst"],
    "IT operations": ["Application operations engineer", "Service desk manager", "Infrastructure operations engineer", "IT service manager"],
    "Product and delivery": ["Business analyst", "Delivery manager", "Product manager", "Programme delivery manager", "Service owner"],
    "Quality assurance testing": ["Quality assurance test analyst", "Test engineer", "Test manager"],
    "Software development": ["Development operations engineer", "Frontend developer", "Infrastructure engineer", "Software developer", "Network engineer"],
    "User-centred design": ["Accessibility specialist", "Content designer", "Interaction designer", "Service designer", "Technical writer", "User researcher"],
    "Security": ["Security analyst", "Security engineer", "Security operations analyst"],
}
