"""UPR tracker: importing UN Universal Periodic Review recommendations, their civic-space themes,
researchers' implementation assessments and the events that suggest evidence for them."""
