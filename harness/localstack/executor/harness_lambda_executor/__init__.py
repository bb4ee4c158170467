"""LocalStack plugins for running LocalStack on a plain host (no Docker) in the harness.

* ``local-process`` (namespace ``localstack.lambda.runtime_executor``, selected with
  ``LAMBDA_RUNTIME_EXECUTOR=local-process``): runs a Lambda function's ``bootstrap`` as a local
  child process instead of a Docker container (see ``executor.py`` and ``runtime_api.py``).
* ``harness_isolate_s3_storage`` (namespace ``localstack.hooks.on_infra_start``): moves S3's
  spill-to-disk directory from the hard-coded, machine-wide ``/tmp/localstack-s3-storage`` into
  this instance's ``config.dirs.tmp`` (under ``FILESYSTEM_ROOT``; LocalStack clears it at start and
  shutdown), so concurrent instances with equal bucket names don't share or delete each other's
  files. There is no LocalStack setting for that directory.

Both are registered as entry points in pyproject.toml; plux finds them through the installed
distribution's metadata.
"""

import os

from plux import Plugin, plugin

__version__ = "0.1.0"


class LocalProcessRuntimeExecutorPlugin(Plugin):
    namespace = "localstack.lambda.runtime_executor"
    name = "local-process"

    def load(self, *args, **kwargs):
        # imported lazily: LocalStack resolves every plugin of the namespace at lookup time
        from .executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor


def _isolate_s3_storage() -> None:
    from localstack import config

    if config.is_in_docker:
        return  # inside LocalStack's own container the default is private already
    from localstack.services.s3 import provider

    provider.DEFAULT_S3_TMP_DIR = os.path.join(config.dirs.tmp, "s3-storage")


_isolate_s3_storage.hook_priority = 0  # read by LocalStack's HookManager for ordering
isolate_s3_storage = plugin(
    namespace="localstack.hooks.on_infra_start", name="harness_isolate_s3_storage"
)(_isolate_s3_storage)
