import React, { useEffect, useState } from 'react';
import { Box } from '@twilio-paste/core/box';
import { Button } from '@twilio-paste/core/button';
import { Heading } from '@twilio-paste/core/heading';
import { Text } from '@twilio-paste/core/text';
import { Theme } from '@twilio-paste/core/theme';

import { withErrorBoundary } from '../../../common/ErrorBoundary';
import { handoffOfTask } from '../helpers/handoffOfTask';
import { waitText } from '../helpers/durations';

// How much of a summary shows before the agent asks for the rest.
export const SUMMARY_PREVIEW_LENGTH = 280;
// How often the wait is counted again.
const TICK_MS = 15000;

function useNow(tickMs) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  return now;
}

function Row({ label, children }) {
  return (
    <Box display="flex" columnGap="space30" marginBottom="space20">
      <Box as="dt" minWidth="size10" flexShrink={0}>
        <Text as="span" color="colorTextWeak" fontSize="fontSize20">
          {label}
        </Text>
      </Box>
      <Box as="dd" margin="space0" minWidth="0">
        {children}
      </Box>
    </Box>
  );
}

/** The summary, its first SUMMARY_PREVIEW_LENGTH characters until the agent opens the rest. Text only. */
function Summary({ summary }) {
  const [open, setOpen] = useState(false);
  const characters = Array.from(summary);
  const long = characters.length > SUMMARY_PREVIEW_LENGTH;
  const shown = long && !open ? `${characters.slice(0, SUMMARY_PREVIEW_LENGTH).join('')}…` : summary;
  return (
    <Box>
      <Text as="p" whiteSpace="pre-wrap" wordBreak="break-word" data-testid="ai-handoff-summary">
        {shown}
      </Text>
      {long ? (
        <Button variant="link" size="small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Show less' : `Show the whole summary (${characters.length} characters)`}
        </Button>
      ) : null}
    </Box>
  );
}

/**
 * "From the AI": why the AI handed the customer off, what it learned, when, and how long the customer has waited
 * since, on the task's Info panel. Renders nothing for a task the kit did not create. Every value is rendered as
 * text (the AI's words are untrusted input): never as markup.
 */
export function AiHandoffPanelContent({ task }) {
  const handoff = handoffOfTask(task);
  const now = useNow(TICK_MS);
  if (!handoff) return null;
  const { reason, summary, handedOffAt, fields } = handoff;
  return (
    <Theme.Provider theme="flex">
      <Box
        as="section"
        aria-label="From the AI"
        data-testid="ai-handoff-panel"
        padding="space40"
        marginBottom="space40"
        borderStyle="solid"
        borderWidth="borderWidth10"
        borderColor="colorBorderWeak"
        borderRadius="borderRadius20"
        backgroundColor="colorBackgroundBody"
      >
        <Heading as="h2" variant="heading40">
          From the AI
        </Heading>
        <Box as="dl" margin="space0">
          <Row label="Reason">
            <Text as="p" whiteSpace="pre-wrap" wordBreak="break-word" data-testid="ai-handoff-reason">
              {reason || 'The AI gave no reason.'}
            </Text>
          </Row>
          <Row label="Summary">{summary ? <Summary summary={summary} /> : <Text as="p">The AI gave no summary.</Text>}</Row>
          {handedOffAt ? (
            <>
              <Row label="Handed off">
                <Text as="p" data-testid="ai-handoff-at">
                  <time dateTime={handedOffAt.toISOString()}>{handedOffAt.toLocaleString()}</time>
                </Text>
              </Row>
              <Row label="Waiting">
                <Text as="p" data-testid="ai-handoff-waited">
                  {waitText(now - handedOffAt.getTime())}
                </Text>
              </Row>
            </>
          ) : null}
          {fields.map(({ label, value }, index) => (
            <Row key={`${index}:${label}`} label={label}>
              <Text as="p" wordBreak="break-word">
                {value}
              </Text>
            </Row>
          ))}
        </Box>
      </Box>
    </Theme.Provider>
  );
}

export default withErrorBoundary(AiHandoffPanelContent, 'the From the AI panel');
