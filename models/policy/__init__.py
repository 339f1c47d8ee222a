"""Municipal rules as data: one TOML file per municipality in policies/, validated here.

Every rule cites domain.md (shared/domain.md) or a seed (shared/seeds/). Each
policy file gives the values its municipality's documents state, each with a
comment quoting the seed; where the documents are silent the key is left out
and the default in this package applies. The field description says what the
default is and why, and `Policy.defaulted_fields()` lists every value that came
from a default, so staff can see which rules "the policy says" only because
nothing else was written down.

The model is frozen and refuses unknown keys, so a misspelt key in a file is an
error at load time rather than a silently ignored rule.

One module per part of the file: `mail` ([mail]), `deviation_report`,
`applications` ([decision], [application]), `contracts` ([contract],
[inactivity], [changes]), `obligations`, `warning`, `lex_sarah`; `municipality`
holds `Policy`, the whole file, and `loader` reads and caches the files.
"""

from models.policy.applications import ApplicationPolicy, DecisionPolicy
from models.policy.contracts import ChangesPolicy, ContractPolicy, InactivityPolicy
from models.policy.deviation_report import DeviationReportPolicy
from models.policy.lex_sarah import LexSarahPolicy
from models.policy.loader import (
    POLICY_DIR,
    PolicyError,
    clear_policy_cache,
    list_policies,
    load_policy,
)
from models.policy.mail import MailPolicy, MailPurpose
from models.policy.municipality import Policy
from models.policy.obligations import ObligationPolicy
from models.policy.warning import ContractClause, ImmediateGround, WarningPolicy

__all__ = [
    "POLICY_DIR",
    "ApplicationPolicy",
    "ChangesPolicy",
    "ContractClause",
    "ContractPolicy",
    "DecisionPolicy",
    "DeviationReportPolicy",
    "ImmediateGround",
    "InactivityPolicy",
    "LexSarahPolicy",
    "MailPolicy",
    "MailPurpose",
    "ObligationPolicy",
    "Policy",
    "PolicyError",
    "WarningPolicy",
    "clear_policy_cache",
    "list_policies",
    "load_policy",
]
