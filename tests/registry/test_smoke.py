from datetime import date

from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.quality import BasisKind
from tests.world import World


def test_a_provider_issues_a_credential_under_its_accreditation(registry):
    world = World(registry)
    credential_id = world.issue(date(2024, 3, 1))
    credential = registry.get(Credential, credential_id)
    assert credential.qa_basis.kind == BasisKind.ACCREDITATION
    assert credential.qa_basis.id == world.accreditation_id
