"""The learning loop's pages: the doctrine, self-assessments and the heat map;
communities of practice, coverage and open roles."""
