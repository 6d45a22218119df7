"""What runs flows: intake, dispatch, effects, the flow engine, the scheduler, the sender."""
