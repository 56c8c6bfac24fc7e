"""RobotLab on a school's JupyterHub: settings, the pupils' spawner, accounts from a roster.

``deploy/jupyterhub_config.py`` puts ``deploy/`` on ``sys.path`` and builds the hub's
configuration from here; the scripts run as ``python -m robotlab_hub.<tool>`` with
``deploy/`` as the working directory or on ``PYTHONPATH`` (see docs/deploy.md).
"""
