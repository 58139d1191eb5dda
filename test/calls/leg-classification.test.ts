// Pure rules of src/calls/derivation/leg-classification.ts, without a model or sockets.
import t from 'tap'
import { showsCallPastItsStart } from '../../src/calls/derivation/leg-classification.js'
import { participant } from './participant-script.js'

t.test('a leg first seen in a snapshot shows the call past its start when answered or blind-transferred', async (t) => {
  t.equal(showsCallPastItsStart(participant('101', 1, 900, { status: 'Ringing' })), false, 'ringing: the call may have just begun')
  t.equal(showsCallPastItsStart(participant('101', 1, 900, { status: 'Dialing' })), false, 'dialing')
  t.equal(showsCallPastItsStart(participant('101', 1, 900, { status: 'Connected' })), true, 'answered: a conversation was in the gap')
  t.equal(showsCallPastItsStart(participant('114', 2, 900, { status: 'Ringing', referred_by_dn: '102' })), true, 'transferred by 102: 102\'s part was in the gap')
})
