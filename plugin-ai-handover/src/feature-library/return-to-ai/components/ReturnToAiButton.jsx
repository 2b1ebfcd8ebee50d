import React, { useState } from 'react';
import { Box } from '@twilio-paste/core/box';
import { Button } from '@twilio-paste/core/button';
import { Text } from '@twilio-paste/core/text';
import { Theme } from '@twilio-paste/core/theme';

import { withErrorBoundary } from '../../../common/ErrorBoundary';
import { attributesOf, objectOf } from '../../../common/attributes';
import { HANDOFF_ATTRIBUTE, STUDIO_HANDOFF_ATTRIBUTE } from '../../../generated/contract';
import { handBack, flexTokenOf } from '../helpers/handBack';
import { handBackUrlOf } from '../helpers/handBackConfig';

// A Conversation Orchestrator conversation's id (a TTID): how TAC's HandoffData names its conversation.
const ORCHESTRATOR_CONVERSATION = /^conv_conversation_[0-9a-z]{26}$/;

/**
 * Whether the task is one Return to AI is for: a messaging task the agent has accepted, that the kit's hand-back can
 * give back (as assets/lifecycle/handback.private.js reads them): one the direct path created (its `handoff` beside
 * the conversation and its service: the bot's webhooks come back), one the studio-handover tool's flow created (the
 * conversation and its service among the attributes of its HandoffData), or one Twilio Agent Connect's flow created
 * (TAC's HandoffData naming its Orchestrator conversation, beside the Classic conversation: TAC's is ACTIVE again).
 */
export function canReturnToAi(task) {
  if (!task || task.status !== 'accepted' || task.taskChannelUniqueName === 'voice') return false;
  const attributes = attributesOf(task);
  if (attributes.channelType === 'voice') return false;
  if (objectOf(attributes[HANDOFF_ATTRIBUTE])) {
    return typeof attributes.conversationSid === 'string' && typeof attributes.conversationServiceSid === 'string';
  }
  const handoffData = objectOf(attributes[STUDIO_HANDOFF_ATTRIBUTE]);
  if (!handoffData) return false;
  const said = objectOf(handoffData.attributes) || {};
  if (typeof said.conversationSid === 'string' && typeof said.conversationServiceSid === 'string') return true;
  return typeof attributes.conversationSid === 'string' && ORCHESTRATOR_CONVERSATION.test(String(handoffData.conversationId));
}

/**
 * Return to AI, on an accepted messaging task of the kit: the kit's hand-back gives the conversation to the AI, then
 * Flex wraps the agent's side up (its WrapupTask action, which Flex carries out through the Interactions API; the
 * task is never canceled). Disabled, with the reason shown, where the hand-back is not set up.
 */
export function ReturnToAiButtonContent({ task, flex, manager, fetchImpl }) {
  const [state, setState] = useState({ phase: 'idle', message: '' });
  if (!canReturnToAi(task)) return null;
  const target = handBackUrlOf(manager);
  const token = flexTokenOf(manager);
  const unavailable = !target.ok ? target.problem : !token ? 'Flex has no token for you: sign in to Flex again.' : '';
  const busy = state.phase === 'sending' || state.phase === 'done';

  async function returnToAi() {
    setState({ phase: 'sending', message: 'Handing the customer back to the AI…' });
    const result = await handBack({ url: target.url, token, taskSid: task.taskSid || task.sid, fetchImpl });
    if (!result.ok) {
      setState({ phase: 'failed', message: result.message });
      return;
    }
    try {
      await flex.Actions.invokeAction('WrapupTask', { sid: task.sid });
      setState({ phase: 'done', message: 'The customer is with the AI again. Finish your wrap-up.' });
    } catch (error) {
      setState({
        phase: 'failed',
        message: `The customer is with the AI again, but Flex could not wrap up the task (${String(
          (error && error.message) || error
        )}): wrap it up from the task.`,
      });
    }
  }

  const note = unavailable || state.message;
  return (
    <Theme.Provider theme="flex">
      <Box display="flex" alignItems="center" columnGap="space30" data-testid="return-to-ai">
        <Button variant="secondary" size="small" disabled={Boolean(unavailable) || busy} loading={state.phase === 'sending'} onClick={returnToAi}>
          Return to AI
        </Button>
        {note ? (
          <Text as="span" role={state.phase === 'failed' ? 'alert' : 'status'} fontSize="fontSize20" data-testid="return-to-ai-note">
            {note}
          </Text>
        ) : null}
      </Box>
    </Theme.Provider>
  );
}

export default withErrorBoundary(ReturnToAiButtonContent, 'Return to AI');
