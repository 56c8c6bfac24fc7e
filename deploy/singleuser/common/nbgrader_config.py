# nbgrader on the RobotLab hub, for pupils and teachers alike (JUPYTER_CONFIG_PATH names
# this folder): the exchange that keeps pupils apart (deploy/robotlab_hub/exchange.py).
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))    # deploy/

c = get_config()  # noqa: F821 (provided by nbgrader)
c.Exchange.root = os.environ.get("ROBOTLAB_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
# The exchange's folders are made by root (python -m robotlab_hub.courses prepare), so
# nbgrader must not try to open the root to all (0777) as it does by default.
c.CourseDirectory.groupshared = True
c.ExchangeFactory.submit = "robotlab_hub.exchange.PupilSubmit"
c.ExchangeFactory.collect = "robotlab_hub.exchange.PupilCollect"
c.ExchangeFactory.list = "robotlab_hub.exchange.PupilList"
c.ExchangeFactory.release_feedback = "robotlab_hub.exchange.PupilReleaseFeedback"
c.ExchangeFactory.fetch_feedback = "robotlab_hub.exchange.PupilFetchFeedback"
